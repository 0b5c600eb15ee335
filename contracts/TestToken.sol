// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// TestToken owns the token side of tests and local runs (PROTOCOL.md section 1): a plain
// OpenZeppelin ERC-20 ("Edge402 Test Token", E402T, 18 decimals) with EIP-2612 permit, so that
// `MicroTransferChannels.createChannelWithPermit` can be exercised, and a public, unrestricted
// `mint` faucet so any test or local user can fund itself. It has no value and no access
// control by design; never deploy it anywhere that matters.

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title Edge402 Test Token: ERC-20 + EIP-2612 with a public faucet
contract TestToken is ERC20, ERC20Permit {
    constructor() ERC20("Edge402 Test Token", "E402T") ERC20Permit("Edge402 Test Token") {}

    /// @notice Faucet: mints `amount` base units to `to`. Anyone may call it.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
