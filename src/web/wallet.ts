// Finding the person's wallet and talking to it. Wallets announce themselves by EIP-6963
// (`eip6963:announceProvider` in answer to `eip6963:requestProvider`); an older wallet only
// sets `window.ethereum`. The page reads the chain only through the wallet (eth_call,
// receipts, logs), never from an RPC URL of its own.
import { fromWallet } from "./errors.js";

export type Eip1193Provider = {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
};

export type Wallet = { name: string; provider: Eip1193Provider };

const announced: Wallet[] = [];

/** Starts listening for EIP-6963 announcements and asks every wallet to announce itself. */
export function discoverWallets(): void {
  window.addEventListener("eip6963:announceProvider", (event) => {
    const detail = (event as CustomEvent).detail as
      | { info?: { name?: string; uuid?: string }; provider?: Eip1193Provider }
      | undefined;
    if (typeof detail?.provider?.request !== "function") return;
    if (announced.some((w) => w.provider === detail.provider)) return;
    announced.push({ name: String(detail.info?.name ?? "wallet"), provider: detail.provider });
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
}

/** The first announced wallet, else `window.ethereum`, else null. */
export function findWallet(): Wallet | null {
  if (announced[0]) return announced[0];
  const injected = (window as { ethereum?: Eip1193Provider }).ethereum;
  return typeof injected?.request === "function" ? { name: "browser wallet", provider: injected } : null;
}

/** One JSON-RPC request through the wallet; a refusal becomes PageError "rejected". */
export async function walletRequest<T>(wallet: Wallet, method: string, params: unknown, what: string): Promise<T> {
  try {
    return (await wallet.provider.request({ method, params })) as T;
  } catch (err) {
    throw fromWallet(err, what);
  }
}
