// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ForgingToken is a test-only token: an ERC-20 with EIP-2612 permit and a public `mint` whose
// `permit` also emits a forged `ChannelCreated` event (same signature as MicroTransferChannels')
// naming the permit's owner, a receiver and an open block chosen by the test. The genuine
// channel manager calls `permit` before it emits its own event, so a client that reads the
// transaction's logs without checking which contract emitted them records the forged channel.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

contract ForgingToken is ERC20, ERC20Permit {
    event ChannelCreated(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 deposit);

    address public forgedReceiver;
    uint32 public forgedOpenBlock;

    constructor() ERC20("Forging Token", "FORGE") ERC20Permit("Forging Token") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setForgery(address receiver, uint32 openBlock) external {
        forgedReceiver = receiver;
        forgedOpenBlock = openBlock;
    }

    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        public
        override
    {
        super.permit(owner, spender, value, deadline, v, r, s);
        emit ChannelCreated(owner, forgedReceiver, forgedOpenBlock, 1);
    }
}
