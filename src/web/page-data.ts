// What the Worker tells the page's script when it serves a page: the deployment (chain,
// channel contract, token, receiver, gateway path, confirmations), how much a browser prepays
// and deposits, and on a 402 the answer's error code and headers (the terms, the channel the
// request named, the refusal flag). The Worker writes it as JSON into
// <script type="application/json" id="edge402-data"> (src/worker/http/paywall-page.ts); the
// script reads it back here. A script cannot read its own document's response headers, hence
// the copy.
import type { Address } from "viem";

export const PAGE_DATA_ID = "edge402-data";

export type PageData = {
  /** "pay": the 402 page of a priced route; "wallet": the page that closes a channel. */
  page: "pay" | "wallet";
  chainId: number;
  contract: Address;
  token: Address;
  receiver: Address;
  gatewayPath: string;
  minConfirmations: number;
  /** Requests the first balance proof of a visit pays ahead (the rest is credit). */
  prepayRequests: number;
  /** Requests at this price that a new channel's deposit covers. */
  depositRequests: number;
  /** The 402's error code and its RDN-* headers (pay page only). */
  code?: string;
  headers?: Record<string, string>;
};

/** The page's data, or null when the document carries none. */
export function readPageData(doc: Document): PageData | null {
  const el = doc.getElementById(PAGE_DATA_ID);
  if (!el?.textContent) return null;
  return JSON.parse(el.textContent) as PageData;
}
