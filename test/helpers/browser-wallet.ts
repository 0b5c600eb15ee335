// The tests' browser wallet: an EIP-1193 provider injected into a Chromium page that forwards
// every request to anvil, so anvil's unlocked dev account signs (`eth_signTypedData_v4`) and
// sends (`eth_sendTransaction`) for real; no answer is made up except what a wallet itself
// decides: which account the page may see (after `eth_requestAccounts`), the person's refusal
// of a prompt (EIP-1193 error 4001, when a test asks for one), and a wallet left on another
// chain. A test may also change the chain just before the page's transaction goes out. It announces itself by EIP-6963 or sets `window.ethereum`, and records every method
// the page called, so a test can count prompts.
import type { Page } from "playwright-core";
import type { Address } from "viem";

type Answer = { result?: unknown; error?: { code: number; message: string } };

export type WalletOptions = {
  rpcUrl: string;
  account: Address;
  /** How the page finds it (default "eip6963"). */
  discovery?: "eip6963" | "window.ethereum";
  /** The chain the wallet says it is on (default anvil's), and whether it refuses to switch. */
  chainId?: number;
  refuseSwitch?: boolean;
};

/** The methods that show the person a prompt. */
export const PROMPTS = ["eth_requestAccounts", "eth_signTypedData_v4", "eth_sendTransaction"];

export class TestWallet {
  /** Every method the page called, in order. */
  readonly calls: string[] = [];
  /** What "the person" answers to the next signature requests, in order ("reject": error
   *  4001); once it is empty every request is signed. */
  signatures: Array<"sign" | "reject"> = [];
  /** Runs before the page's next transaction is sent: a test changes the chain in between, as
   *  the person's other wallet activity could. */
  beforeSend: (() => Promise<void>) | undefined;
  private connected = false;
  private chainId: number | undefined;

  constructor(readonly opts: WalletOptions) {
    this.chainId = opts.chainId;
  }

  /** The calls of `method` so far. */
  count(method: string): number {
    return this.calls.filter((m) => m === method).length;
  }

  /** Injects the provider into `page` (before any of its scripts run, on every navigation). */
  async install(page: Page): Promise<void> {
    await page.exposeBinding("__edge402TestWallet", (_source, method: string, params: unknown) =>
      this.handle(method, params),
    );
    await page.addInitScript((discovery: string) => {
      const provider = {
        async request({ method, params }: { method: string; params?: unknown }) {
          const call = (window as unknown as { __edge402TestWallet: (m: string, p: unknown) => Promise<Answer> })
            .__edge402TestWallet;
          const answer = await call(method, params ?? []);
          if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
          return answer.result;
        },
      };
      if (discovery === "window.ethereum") {
        (window as unknown as { ethereum: unknown }).ethereum = provider;
        return;
      }
      const detail = Object.freeze({
        info: {
          uuid: "5d9e8f0c-0000-4000-8000-000000000402",
          name: "Test wallet (anvil)",
          icon: "data:,",
          rdns: "test.edge402",
        },
        provider,
      });
      const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
      window.addEventListener("eip6963:requestProvider", announce);
      announce();
    }, this.opts.discovery ?? "eip6963");
  }

  private async handle(method: string, params: unknown): Promise<Answer> {
    this.calls.push(method);
    const refuse = (message: string): Answer => ({ error: { code: 4001, message } });
    switch (method) {
      case "eth_requestAccounts":
        this.connected = true;
        return { result: [this.opts.account] };
      case "eth_accounts":
        return { result: this.connected ? [this.opts.account] : [] };
      case "eth_chainId":
        if (this.chainId !== undefined) return { result: `0x${this.chainId.toString(16)}` };
        break;
      case "wallet_switchEthereumChain":
        if (this.opts.refuseSwitch) return refuse("User rejected the request.");
        this.chainId = undefined;
        return { result: null };
      case "eth_sendTransaction": {
        const before = this.beforeSend;
        this.beforeSend = undefined;
        await before?.();
        break;
      }
      case "eth_signTypedData_v4":
        if (this.signatures.shift() === "reject") return refuse("User denied message signature.");
        break;
    }
    return this.forward(method, params);
  }

  private async forward(method: string, params: unknown): Promise<Answer> {
    const res = await fetch(this.opts.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as Answer;
    return body.error ? { error: { code: body.error.code, message: body.error.message } } : { result: body.result };
  }
}
