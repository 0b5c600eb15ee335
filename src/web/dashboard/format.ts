// How the dashboard writes amounts, addresses and times. Amounts are exact: token units with
// every decimal the token has (trailing zeros dropped, nothing rounded, so a single base unit
// never shows as 0), the base units in the element's title and `data-base`. An address is shown
// in full, or shortened with the full one in its title.
import { formatUnits } from "viem";
import { h } from "./dom.js";

/** The token's display facts (GET /api/1/token); null when unknown, and amounts are base units. */
export type Token = { decimals: number; symbol: string } | null;

/** An amount's text: token units and symbol, or base units when the token is unknown. */
export function amountText(value: string | bigint, token: Token): string {
  const base = BigInt(value);
  return token ? `${formatUnits(base, token.decimals)} ${token.symbol}` : `${base} base units`;
}

/** An amount as an element: its exact text, the base units in `title` and `data-base`. */
export function amount(value: string | bigint | null | undefined, token: Token): HTMLElement {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  const base = BigInt(value).toString();
  return h("span", { class: "amount", "data-base": base, title: `${base} base units` }, amountText(base, token));
}

/** Wei as ether, exactly, with the wei in the title. */
export function ether(wei: string | null): HTMLElement {
  if (wei === null) return h("span", { class: "muted" }, "unknown");
  return h("span", { class: "amount", "data-base": wei, title: `${wei} wei` }, `${formatUnits(BigInt(wei), 18)} ETH`);
}

/** An address in full, or shortened (`0x1234…abcd`) with the full one in its title. */
export function address(value: string, short = false): HTMLElement {
  if (!short) return h("code", { class: "address" }, value);
  return h("code", { class: "address", title: value }, `${value.slice(0, 6)}…${value.slice(-4)}`);
}

/** A transaction hash, shortened, the full one in its title. */
export const txHash = (hash: string): HTMLElement => address(hash, true);

/** A time (ms) as "3 min ago", the date and time in its title; "never" for null. */
export function when(ms: number | null | undefined, now = Date.now()): HTMLElement {
  if (ms === null || ms === undefined) return h("span", { class: "muted" }, "never");
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const text =
    s < 60
      ? `${s} s ago`
      : s < 3600
        ? `${Math.floor(s / 60)} min ago`
        : s < 86_400
          ? `${Math.floor(s / 3600)} h ago`
          : `${Math.floor(s / 86_400)} d ago`;
  return h("time", { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString() }, text);
}
