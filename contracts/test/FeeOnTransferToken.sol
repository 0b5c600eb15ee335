// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// FeeOnTransferToken is a test-only token (never deploy it anywhere that matters): an ERC-20
// with EIP-2612 permit and a public `mint` faucet that burns `feeBps` basis points of every
// transfer between two accounts, the way fee-on-transfer tokens do. The fee can be switched on
// later (`setFee`, anyone), as some real tokens can. The contract tests use it to show that
// MicroTransferChannels refuses deposits that arrive short (`TransferAmountMismatch`).

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

contract FeeOnTransferToken is ERC20, ERC20Permit {
    /// @notice The fee burnt on each transfer, in basis points.
    uint16 public feeBps;

    constructor(uint16 feeBps_) ERC20("Fee Token", "FEE") ERC20Permit("Fee Token") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFee(uint16 feeBps_) external {
        feeBps = feeBps_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0) && feeBps != 0) {
            uint256 fee = (value * feeBps) / 10_000;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}
