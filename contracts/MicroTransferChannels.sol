// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// MicroTransferChannels owns the on-chain half of the edge402 protocol (PROTOCOL.md sections 1
// and 2): one-way ERC-20 payment channels from many senders to many receivers for the single
// token fixed at construction. It holds every channel's deposit, pays receivers against the
// senders' cumulative EIP-712 `BalanceProof` signatures (`withdraw` keeps the channel open,
// `cooperativeClose` settles at once with the receiver's `ClosingProof`), and runs the
// sender's uncooperative exit: `uncooperativeClose` starts a challenge of `challengePeriod`
// blocks during which the receiver may still settle cooperatively at the balance it can prove,
// after which anyone may `settle` at the sender's claimed balance. Every settlement keeps
// `withdrawn <= balance <= deposit`, deletes the channel, and moves tokens only after all state
// changes; every failure reverts with a custom error. Deposits must arrive in full: a
// fee-on-transfer (or otherwise short-changing) token is refused with `TransferAmountMismatch`.
// It descends from µRaiden's
// RaidenMicroTransferChannels with EIP-712 typed data instead of eth_sign messages.

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title One-way ERC-20 micropayment channels with EIP-712 balance proofs
/// @notice A channel is identified by (sender, receiver, openBlock); see `getKey`.
contract MicroTransferChannels is EIP712 {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------------------------------
    // Constants and immutables
    // ---------------------------------------------------------------------------------------

    /// @notice EIP-712 type hash of `BalanceProof(address receiver,uint32 openBlock,uint192 balance)`,
    /// signed by the sender.
    bytes32 public constant BALANCE_PROOF_TYPEHASH =
        keccak256("BalanceProof(address receiver,uint32 openBlock,uint192 balance)");

    /// @notice EIP-712 type hash of `ClosingProof(address sender,uint32 openBlock,uint192 balance)`,
    /// signed by the receiver.
    bytes32 public constant CLOSING_PROOF_TYPEHASH =
        keccak256("ClosingProof(address sender,uint32 openBlock,uint192 balance)");

    /// @notice The smallest challenge period (in blocks) the constructor accepts.
    uint32 public constant MIN_CHALLENGE_PERIOD = 500;

    /// @notice The ERC-20 token all channels of this manager are denominated in.
    address public immutable token;

    /// @notice Challenge period in blocks: `uncooperativeClose` sets
    /// `settleBlock = block.number + challengePeriod`, and `settle` requires
    /// `block.number > settleBlock`.
    uint32 public immutable challengePeriod;

    // ---------------------------------------------------------------------------------------
    // State
    // ---------------------------------------------------------------------------------------

    /// @dev A channel exists iff `deposit > 0`: creation refuses a zero deposit and nothing but
    /// deletion ever lowers it. Slot 1 packs deposit and settleBlock.
    struct Channel {
        uint192 deposit;
        uint32 settleBlock; // 0 while open; set by uncooperativeClose
        uint192 withdrawn; // cumulative amount already paid to the receiver by withdraw
        uint192 closingBalance; // the sender's claimed balance once a close is requested
    }

    mapping(bytes32 key => Channel) private _channels;

    // ---------------------------------------------------------------------------------------
    // Events (exact signatures from PROTOCOL.md section 1)
    // ---------------------------------------------------------------------------------------

    event ChannelCreated(
        address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 deposit
    );
    event ChannelToppedUp(
        address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 added
    );
    event ChannelCloseRequested(
        address indexed sender,
        address indexed receiver,
        uint32 indexed openBlock,
        uint192 balance,
        uint32 settleBlock
    );
    event ChannelSettled(
        address indexed sender,
        address indexed receiver,
        uint32 indexed openBlock,
        uint192 balance,
        uint192 receiverTokens
    );
    /// @dev `withdrawn` is the new cumulative total withdrawn, not this withdrawal's amount.
    event ChannelWithdraw(
        address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 withdrawn
    );

    // ---------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------

    /// @notice The constructor's challenge period is below `MIN_CHALLENGE_PERIOD`.
    error InvalidChallengePeriod(uint32 challengePeriod, uint32 minimum);
    /// @notice The token (constructor) or the receiver (channel creation) is the zero address.
    error ZeroAddress();
    /// @notice A deposit or top-up of zero tokens.
    error ZeroDeposit();
    /// @notice A channel with this key already exists (same sender and receiver in one block).
    error ChannelExists(bytes32 key);
    /// @notice No channel with this key. For `withdraw` and `cooperativeClose` the sender is
    /// recovered from the balance signature, so a well-formed signature by the wrong key (or over
    /// other values) also ends here: on chain the two cannot be told apart.
    error ChannelNotFound(bytes32 key);
    /// @notice The channel has a pending close request (top-up, withdraw and a second
    /// uncooperativeClose are refused).
    error ChannelClosing(bytes32 key);
    /// @notice `settle` on a channel without a close request.
    error NotClosing(bytes32 key);
    /// @notice `settle` before the challenge period is over (`block.number <= settleBlock`).
    error ChallengePeriodActive(uint32 settleBlock);
    /// @notice The balance breaks `withdrawn <= balance <= deposit` (for `withdraw`: also
    /// `balance > withdrawn`).
    error InvalidBalance(uint192 balance, uint192 withdrawn, uint192 deposit);
    /// @notice The balance signature is malformed: not 65 bytes, v not in {0, 1, 27, 28},
    /// s in the upper half of the curve order, or no signer recoverable.
    error InvalidBalanceSignature();
    /// @notice The closing signature is malformed or was not made by the receiver.
    error InvalidClosingSignature();
    /// @notice The deposit would exceed `type(uint192).max`.
    error DepositOverflow();
    /// @notice `createChannelWithPermit`: the permit failed and the allowance is still short.
    error PermitFailed();
    /// @notice A deposit or top-up moved a different amount into this contract than asked
    /// (a fee-on-transfer or rebasing token): such tokens are unsupported, since a channel's
    /// recorded deposit must be exactly what the contract received.
    error TransferAmountMismatch(uint256 expected, uint256 received);

    // ---------------------------------------------------------------------------------------
    // Construction
    // ---------------------------------------------------------------------------------------

    /// @param token_ The ERC-20 (EIP-2612 for `createChannelWithPermit`) token of all channels.
    /// @param challengePeriod_ Challenge period in blocks, at least `MIN_CHALLENGE_PERIOD`.
    constructor(address token_, uint32 challengePeriod_) EIP712("MicroTransferChannels", "1") {
        if (token_ == address(0)) revert ZeroAddress();
        if (challengePeriod_ < MIN_CHALLENGE_PERIOD) {
            revert InvalidChallengePeriod(challengePeriod_, MIN_CHALLENGE_PERIOD);
        }
        token = token_;
        challengePeriod = challengePeriod_;
    }

    // ---------------------------------------------------------------------------------------
    // Sender: open and fund
    // ---------------------------------------------------------------------------------------

    /// @notice Opens a channel from msg.sender to `receiver` in this block, pulling `deposit`
    /// tokens with `transferFrom` (approve this contract first).
    function createChannel(address receiver, uint192 deposit) external {
        _createChannel(msg.sender, receiver, deposit);
    }

    /// @notice `createChannel` with an EIP-2612 permit for `deposit`, in one transaction. If the
    /// permit call reverts (e.g. someone front-ran it with the same signature, consuming the
    /// nonce) the channel is still opened when the allowance already covers `deposit`.
    function createChannelWithPermit(
        address receiver,
        uint192 deposit,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        try IERC20Permit(token).permit(msg.sender, address(this), deposit, deadline, v, r, s) {}
        catch {
            if (IERC20(token).allowance(msg.sender, address(this)) < deposit) revert PermitFailed();
        }
        _createChannel(msg.sender, receiver, deposit);
    }

    /// @notice Adds `added` tokens to the deposit of an open channel of msg.sender; refused
    /// while a close is pending.
    function topUp(address receiver, uint32 openBlock, uint192 added) external {
        if (added == 0) revert ZeroDeposit();
        bytes32 key = getKey(msg.sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        if (channel.deposit == 0) revert ChannelNotFound(key);
        if (channel.settleBlock != 0) revert ChannelClosing(key);
        uint256 newDeposit = uint256(channel.deposit) + added;
        if (newDeposit > type(uint192).max) revert DepositOverflow();

        channel.deposit = uint192(newDeposit);
        emit ChannelToppedUp(msg.sender, receiver, openBlock, added);

        _pull(msg.sender, added);
    }

    // ---------------------------------------------------------------------------------------
    // Receiver: withdraw without closing
    // ---------------------------------------------------------------------------------------

    /// @notice Pays the receiver (msg.sender) `balance - withdrawn` against the sender's balance
    /// proof; the channel stays open. Refused while a close is pending (the receiver disputes
    /// with `cooperativeClose` instead), since a later `settle` pays at the sender's claimed
    /// balance, which must not fall below what was withdrawn.
    function withdraw(uint32 openBlock, uint192 balance, bytes calldata balanceSig) external {
        address receiver = msg.sender;
        address sender = _recoverBalanceSigner(receiver, openBlock, balance, balanceSig);
        bytes32 key = getKey(sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        if (channel.deposit == 0) revert ChannelNotFound(key);
        if (channel.settleBlock != 0) revert ChannelClosing(key);
        uint192 withdrawn = channel.withdrawn;
        if (balance <= withdrawn || balance > channel.deposit) {
            revert InvalidBalance(balance, withdrawn, channel.deposit);
        }

        channel.withdrawn = balance;
        emit ChannelWithdraw(sender, receiver, openBlock, balance);

        IERC20(token).safeTransfer(receiver, balance - withdrawn);
    }

    // ---------------------------------------------------------------------------------------
    // Closing
    // ---------------------------------------------------------------------------------------

    /// @notice Settles a channel at once at `balance`, given the sender's balance proof and the
    /// receiver's closing proof for it. Anyone may submit it; it is also valid while a close is
    /// pending (the receiver's dispute of the sender's claimed balance). The receiver gets
    /// `balance - withdrawn`, the sender `deposit - balance`.
    function cooperativeClose(
        address receiver,
        uint32 openBlock,
        uint192 balance,
        bytes calldata balanceSig,
        bytes calldata closingSig
    ) external {
        address sender = _recoverBalanceSigner(receiver, openBlock, balance, balanceSig);
        if (_recoverClosingSigner(sender, openBlock, balance, closingSig) != receiver) {
            revert InvalidClosingSignature();
        }
        _settle(sender, receiver, openBlock, balance);
    }

    /// @notice Starts the sender's (msg.sender's) exit at its claimed `balance`:
    /// `settleBlock = block.number + challengePeriod`, after which anyone may `settle`.
    function uncooperativeClose(address receiver, uint32 openBlock, uint192 balance) external {
        address sender = msg.sender;
        bytes32 key = getKey(sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        if (channel.deposit == 0) revert ChannelNotFound(key);
        if (channel.settleBlock != 0) revert ChannelClosing(key);
        if (balance < channel.withdrawn || balance > channel.deposit) {
            revert InvalidBalance(balance, channel.withdrawn, channel.deposit);
        }
        uint32 settleBlock = SafeCast.toUint32(block.number + challengePeriod);

        channel.closingBalance = balance;
        channel.settleBlock = settleBlock;
        emit ChannelCloseRequested(sender, receiver, openBlock, balance, settleBlock);
    }

    /// @notice Settles a channel at its `closingBalance` once the challenge is over, i.e. in any
    /// block with `block.number > settleBlock`. Anyone may call it.
    function settle(address sender, address receiver, uint32 openBlock) external {
        bytes32 key = getKey(sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        if (channel.deposit == 0) revert ChannelNotFound(key);
        uint32 settleBlock = channel.settleBlock;
        if (settleBlock == 0) revert NotClosing(key);
        if (block.number <= settleBlock) revert ChallengePeriodActive(settleBlock);
        _settle(sender, receiver, openBlock, channel.closingBalance);
    }

    // ---------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------

    /// @notice The channel's key and state; reverts with `ChannelNotFound` for an unknown channel.
    function getChannelInfo(address sender, address receiver, uint32 openBlock)
        external
        view
        returns (bytes32 key, uint192 deposit, uint32 settleBlock, uint192 closingBalance, uint192 withdrawn)
    {
        key = getKey(sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        if (channel.deposit == 0) revert ChannelNotFound(key);
        return (key, channel.deposit, channel.settleBlock, channel.closingBalance, channel.withdrawn);
    }

    /// @notice `keccak256(abi.encodePacked(sender, receiver, openBlock))`.
    function getKey(address sender, address receiver, uint32 openBlock) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(sender, receiver, openBlock));
    }

    /// @notice The EIP-712 domain separator (name "MicroTransferChannels", version "1", this
    /// chain, this contract).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice The address that signed a `BalanceProof`; reverts `InvalidBalanceSignature` for a
    /// malformed signature. Any well-formed signature recovers to some address.
    function extractBalanceProofSigner(address receiver, uint32 openBlock, uint192 balance, bytes calldata sig)
        external
        view
        returns (address)
    {
        return _recoverBalanceSigner(receiver, openBlock, balance, sig);
    }

    /// @notice The address that signed a `ClosingProof`; reverts `InvalidClosingSignature` for a
    /// malformed signature.
    function extractClosingProofSigner(address sender, uint32 openBlock, uint192 balance, bytes calldata sig)
        external
        view
        returns (address)
    {
        address signer = _recoverClosingSigner(sender, openBlock, balance, sig);
        if (signer == address(0)) revert InvalidClosingSignature();
        return signer;
    }

    // ---------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------

    function _createChannel(address sender, address receiver, uint192 deposit) private {
        if (receiver == address(0)) revert ZeroAddress();
        if (deposit == 0) revert ZeroDeposit();
        uint32 openBlock = SafeCast.toUint32(block.number);
        bytes32 key = getKey(sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        if (channel.deposit != 0) revert ChannelExists(key);

        channel.deposit = deposit;
        emit ChannelCreated(sender, receiver, openBlock, deposit);

        _pull(sender, deposit);
    }

    /// @dev Pulls `amount` from `from` and reverts `TransferAmountMismatch` unless this
    /// contract's balance grew by exactly `amount`: the deposit recorded is the deposit held.
    function _pull(address from, uint192 amount) private {
        IERC20 t = IERC20(token);
        uint256 before = t.balanceOf(address(this));
        t.safeTransferFrom(from, address(this), amount);
        uint256 afterwards = t.balanceOf(address(this));
        uint256 received = afterwards > before ? afterwards - before : 0;
        if (received != amount) revert TransferAmountMismatch(amount, received);
    }

    /// @dev Pays out and deletes the channel at `balance`: receiver `balance - withdrawn`,
    /// sender `deposit - balance`. Transfers of zero are skipped.
    function _settle(address sender, address receiver, uint32 openBlock, uint192 balance) private {
        bytes32 key = getKey(sender, receiver, openBlock);
        Channel storage channel = _channels[key];
        uint192 deposit = channel.deposit;
        uint192 withdrawn = channel.withdrawn;
        if (deposit == 0) revert ChannelNotFound(key);
        if (balance < withdrawn || balance > deposit) revert InvalidBalance(balance, withdrawn, deposit);
        uint192 receiverTokens = balance - withdrawn;
        uint192 senderTokens = deposit - balance;

        delete _channels[key];
        emit ChannelSettled(sender, receiver, openBlock, balance, receiverTokens);

        if (receiverTokens > 0) IERC20(token).safeTransfer(receiver, receiverTokens);
        if (senderTokens > 0) IERC20(token).safeTransfer(sender, senderTokens);
    }

    function _recoverBalanceSigner(address receiver, uint32 openBlock, uint192 balance, bytes calldata sig)
        private
        view
        returns (address signer)
    {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(BALANCE_PROOF_TYPEHASH, receiver, openBlock, balance)));
        signer = _recover(digest, sig);
        if (signer == address(0)) revert InvalidBalanceSignature();
    }

    /// @dev Returns address(0) for a malformed signature; callers compare with the receiver.
    function _recoverClosingSigner(address sender, uint32 openBlock, uint192 balance, bytes calldata sig)
        private
        view
        returns (address)
    {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CLOSING_PROOF_TYPEHASH, sender, openBlock, balance)));
        return _recover(digest, sig);
    }

    /// @dev `r ‖ s ‖ v` (65 bytes) with v in {27, 28}, or {0, 1} meaning 27 and 28; s must be in
    /// the lower half of the curve order (enforced by OpenZeppelin's ECDSA). Returns address(0)
    /// for anything malformed or unrecoverable.
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, v, r, s);
        if (err != ECDSA.RecoverError.NoError) return address(0);
        return signer;
    }
}
