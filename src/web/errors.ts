// The page's one error type: what went wrong, worded for a person, with a kind the page and
// the tests can tell apart (no wallet, a refused prompt, the wrong chain, too few tokens, a
// failed transaction, a payment the server refused). Wallet errors arrive as EIP-1193 errors;
// `fromWallet` turns the user's refusal (code 4001) into "rejected".
export type PageErrorKind =
  | "no_wallet"
  | "rejected"
  | "wrong_chain"
  | "insufficient_balance"
  | "transaction_failed"
  | "refused"
  | "failed";

export class PageError extends Error {
  override name = "PageError";
  constructor(
    readonly kind: PageErrorKind,
    message: string,
    /** The wallet's own words, when it failed. */
    override readonly cause?: string,
  ) {
    super(message);
  }
}

/** EIP-1193's "User Rejected Request". */
const USER_REJECTED = 4001;

/** The error a wallet call threw, as a PageError: a refusal is "rejected", anything else `what` failed. */
export function fromWallet(err: unknown, what: string): PageError {
  if (err instanceof PageError) return err;
  const e = err as { code?: number; message?: string } | undefined;
  if (e?.code === USER_REJECTED)
    return new PageError("rejected", `You rejected the request in your wallet (${what}). Nothing was paid.`);
  const reason = e?.message ?? String(err);
  return new PageError("failed", `${what} failed: ${reason}`, reason);
}
