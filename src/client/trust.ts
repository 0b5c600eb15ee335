// Which channel contracts the client locks deposits in, because a server's terms name the
// contract and the name alone proves nothing: its code must be edge402's channel manager
// (contract-code.ts) with a challenge period the user can live with, or the user allowlisted it.
import { getAddress, type Address, type Hex } from "viem";
import { checkChannelCode, MIN_CHALLENGE_PERIOD } from "./contract-code.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";

/** The longest challenge period accepted by default, in blocks (about 14 days at 12 s a block). */
export const DEFAULT_MAX_CHALLENGE_PERIOD = 100_000;

export type TrustOptions = {
  /** Contracts to use whatever their code (the user vouches for them). */
  trustedContracts?: readonly string[];
  /** The longest challenge period (blocks) of a contract trusted by its code (default 100 000). */
  maxChallengePeriod?: number;
};

/** What the client needs from the chain to judge a contract. */
export type TrustReads = {
  chainId(): Promise<number>;
  code(contract: Address): Promise<Hex | undefined>;
  /** `token()` of an allowlisted contract. */
  token(contract: Address): Promise<Address>;
};

export type TrustedContract = { contract: Address; token: Address; allowlisted: boolean; challengePeriod?: number };

/**
 * Judges channel contracts: allowlisted (`trustedContracts`, no other check), or edge402's code
 * with a challenge period from `MIN_CHALLENGE_PERIOD` to `maxChallengePeriod`; anything else is
 * `untrusted_contract`, before any transaction or signature. A verdict is kept per contract for
 * the life of the client: deployed code does not change.
 */
export class ContractTrust {
  private readonly allowlist: Set<string>;
  private readonly maxChallengePeriod: number;
  private readonly verdicts = new Map<string, Promise<TrustedContract>>();

  constructor(
    opts: TrustOptions,
    private readonly reads: TrustReads,
  ) {
    this.allowlist = new Set();
    for (const a of opts.trustedContracts ?? []) {
      if (!/^0x[0-9a-fA-F]{40}$/.test(a))
        throw new Edge402Error(ClientErrorCodes.invalidArgument, `trustedContracts: not an address: ${a}`);
      this.allowlist.add(a.toLowerCase());
    }
    const max = opts.maxChallengePeriod ?? DEFAULT_MAX_CHALLENGE_PERIOD;
    if (!Number.isInteger(max) || max < MIN_CHALLENGE_PERIOD || max > 0xffffffff) {
      throw new Edge402Error(
        ClientErrorCodes.invalidArgument,
        `maxChallengePeriod must be an integer from ${MIN_CHALLENGE_PERIOD} to 4294967295`,
      );
    }
    this.maxChallengePeriod = max;
  }

  /** The contract's token, once the contract is trusted; else throws `untrusted_contract`. */
  check(contract: Address): Promise<TrustedContract> {
    const key = contract.toLowerCase();
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = this.judge(getAddress(contract));
      verdict.catch(() => this.verdicts.delete(key));
      this.verdicts.set(key, verdict);
    }
    return verdict;
  }

  private async judge(contract: Address): Promise<TrustedContract> {
    if (this.allowlist.has(contract.toLowerCase()))
      return { contract, token: await this.reads.token(contract), allowlisted: true };
    const [chainId, code] = await Promise.all([this.reads.chainId(), this.reads.code(contract)]);
    const verdict = checkChannelCode(code, { chainId, address: contract });
    const refuse = (reason: string): never => {
      throw new Edge402Error(
        ClientErrorCodes.untrustedContract,
        `Refusing the channel contract ${contract}: ${reason}. Only edge402's MicroTransferChannels is used unless you list the address in trustedContracts.`,
        { details: { contract } },
      );
    };
    if (!verdict.ok) return refuse(`it is not edge402's channel manager (${verdict.reason})`);
    if (verdict.challengePeriod < MIN_CHALLENGE_PERIOD || verdict.challengePeriod > this.maxChallengePeriod) {
      return refuse(
        `its challenge period of ${verdict.challengePeriod} blocks is outside ${MIN_CHALLENGE_PERIOD}..${this.maxChallengePeriod}`,
      );
    }
    return { contract, token: verdict.token, allowlisted: false, challengePeriod: verdict.challengePeriod };
  }
}
