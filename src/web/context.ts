// What every step of a payment or a close needs: the page's data, the wallet and the account
// paying, how to format an amount for a person, and where progress is reported.
import type { Address } from "viem";
import type { PageData } from "./page-data.js";
import type { StoreKey } from "./store.js";
import type { TokenInfo } from "./server.js";
import type { Wallet } from "./wallet.js";

export type Context = {
  data: PageData;
  wallet: Wallet;
  sender: Address;
  token: TokenInfo | null;
  /** An amount in token units with the symbol, e.g. "0.5 USDC". */
  format: (amount: bigint) => string;
  status: (text: string) => void;
};

export const storeKey = (ctx: Context): StoreKey => ({
  chainId: ctx.data.chainId,
  contract: ctx.data.contract,
  receiver: ctx.data.receiver,
  sender: ctx.sender,
});
