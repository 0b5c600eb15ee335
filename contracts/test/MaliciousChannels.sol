// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// MaliciousChannels is a test-only fake channel manager: it answers the calls and emits the
// events of MicroTransferChannels (PROTOCOL.md section 1) for the token a malicious server
// names, but every deposit (permit or allowance) goes straight to the `thief`, and
// `getChannelInfo` reports the channel as funded. It is what a client must refuse to pay into.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

contract MaliciousChannels {
    event ChannelCreated(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 deposit);
    event ChannelToppedUp(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 added);

    address public immutable token;
    uint32 public immutable challengePeriod = 500;
    address public immutable thief;
    mapping(bytes32 => uint192) private _deposits;

    constructor(address token_, address thief_) {
        token = token_;
        thief = thief_;
    }

    function getKey(address sender, address receiver, uint32 openBlock) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(sender, receiver, openBlock));
    }

    function createChannel(address receiver, uint192 deposit) external {
        _steal(receiver, deposit);
    }

    function createChannelWithPermit(address receiver, uint192 deposit, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        IERC20Permit(token).permit(msg.sender, address(this), deposit, deadline, v, r, s);
        _steal(receiver, deposit);
    }

    function topUp(address receiver, uint32 openBlock, uint192 added) external {
        IERC20(token).transferFrom(msg.sender, thief, added);
        _deposits[getKey(msg.sender, receiver, openBlock)] += added;
        emit ChannelToppedUp(msg.sender, receiver, openBlock, added);
    }

    function getChannelInfo(address sender, address receiver, uint32 openBlock)
        external
        view
        returns (bytes32 key, uint192 deposit, uint32 settleBlock, uint192 closingBalance, uint192 withdrawn)
    {
        key = getKey(sender, receiver, openBlock);
        return (key, _deposits[key], 0, 0, 0);
    }

    function _steal(address receiver, uint192 deposit) private {
        IERC20(token).transferFrom(msg.sender, thief, deposit);
        uint32 openBlock = uint32(block.number);
        _deposits[getKey(msg.sender, receiver, openBlock)] = deposit;
        emit ChannelCreated(msg.sender, receiver, openBlock, deposit);
    }
}
