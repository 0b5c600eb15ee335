// Reading what a server says, strictly by PROTOCOL.md section 3, because every header is the
// server's claim: terms that are present must be complete and well-formed, and a channel report
// that does not parse is ignored rather than trusted.
import type { Hex } from "viem";
import { parseAddress, parseOpenBlock, parseSessionToken, parseSignature, parseUint } from "../protocol/codec.js";
import { isErrorCode, protocolErrorFromBody, refusalFlags, type ErrorCode } from "../protocol/errors.js";
import { RdnHeaders } from "../protocol/headers.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { ChannelReport } from "./ledger.js";
import type { ServerInfo } from "./server-info.js";

/** Who to pay for a request, where, and how much. */
export type Terms = ServerInfo & {
  /** `RDN-Gateway-Path`. */
  gatewayPath: string;
  /** The price of this request (for a metered route, its maximum). */
  price: bigint;
};

const termsNames = [
  RdnHeaders.gatewayPath,
  RdnHeaders.receiverAddress,
  RdnHeaders.contractAddress,
  RdnHeaders.tokenAddress,
  RdnHeaders.chainId,
  RdnHeaders.price,
] as const;

/**
 * The payment terms a 402 announces (receiver, contract, token, chain, price, gateway).
 *
 * @param headers - The response's headers.
 * @param url - The request's URL (the gateway is on its origin).
 * @returns The terms, or null when the response carries none (not an edge402 route).
 * @throws {Edge402Error} `invalid_terms` when terms are present but incomplete or malformed.
 *
 * @example
 * const res = await fetch(url);
 * const terms = res.status === 402 ? readTerms(res.headers, url) : null;
 * if (terms) console.log(`costs ${terms.price}, paid to ${terms.receiver} on chain ${terms.chainId}`);
 */
export function readTerms(headers: Headers, url: string): Terms | null {
  const values = termsNames.map((n) => headers.get(n));
  if (values.every((v) => v === null)) return null;
  const missing = termsNames.filter((_, i) => values[i] === null);
  if (missing.length > 0) {
    throw new Edge402Error(ClientErrorCodes.invalidTerms, `The server's terms lack ${missing.join(", ")}.`);
  }
  const [gatewayPath, receiver, contract, token, chainId, price] = values as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  try {
    if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(gatewayPath)) {
      throw new Edge402Error(ClientErrorCodes.invalidTerms, `${RdnHeaders.gatewayPath} is not a path: ${gatewayPath}`);
    }
    const origin = new URL(url).origin;
    const chain = parseUint(chainId, RdnHeaders.chainId, 53);
    return {
      origin,
      gatewayPath: gatewayPath.replace(/\/+$/, ""),
      gateway: `${origin}${gatewayPath.replace(/\/+$/, "")}`,
      receiver: parseAddress(receiver, RdnHeaders.receiverAddress),
      contract: parseAddress(contract, RdnHeaders.contractAddress),
      token: parseAddress(token, RdnHeaders.tokenAddress),
      chainId: Number(chain),
      price: parseUint(price, RdnHeaders.price),
    };
  } catch (err) {
    if (err instanceof Edge402Error) throw err;
    throw new Edge402Error(
      ClientErrorCodes.invalidTerms,
      `The server's terms are malformed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function optional<T>(headers: Headers, name: string, parse: (v: string) => T): T | undefined {
  const v = headers.get(name);
  if (v === null) return undefined;
  try {
    return parse(v);
  } catch {
    return undefined;
  }
}

/**
 * What a server reports about the sender's channel on a paid or refused response: the last
 * balance it accepted (B) with its signature, the deposit, credit, cost and session token.
 *
 * @param headers - The response's headers.
 * @returns The report, or null when it names no channel or does not parse. Optional fields that
 * do not parse are left out. Nothing in it is verified: check B's signature before trusting it.
 *
 * @example
 * const report = readChannelReport(res.headers);
 * if (report?.cost !== undefined) console.log(`charged ${report.cost}; balance ${report.balance}`);
 */
export function readChannelReport(headers: Headers): ChannelReport | null {
  const sender = optional(headers, RdnHeaders.senderAddress, (v) => parseAddress(v, RdnHeaders.senderAddress));
  const openBlock = optional(headers, RdnHeaders.openBlock, (v) => parseOpenBlock(v));
  const balance = optional(headers, RdnHeaders.senderBalance, (v) => parseUint(v, RdnHeaders.senderBalance));
  if (sender === undefined || openBlock === undefined || balance === undefined) return null;
  const signature: Hex | undefined = optional(headers, RdnHeaders.balanceSignature, (v) =>
    parseSignature(v, RdnHeaders.balanceSignature),
  );
  const report: ChannelReport = { sender, openBlock, balance };
  if (signature !== undefined) report.signature = signature;
  const deposit = optional(headers, RdnHeaders.deposit, (v) => parseUint(v, RdnHeaders.deposit));
  if (deposit !== undefined) report.deposit = deposit;
  const credit = optional(headers, RdnHeaders.credit, (v) => parseUint(v, RdnHeaders.credit));
  if (credit !== undefined) report.credit = credit;
  const cost = optional(headers, RdnHeaders.cost, (v) => parseUint(v, RdnHeaders.cost));
  if (cost !== undefined) report.cost = cost;
  const session = optional(headers, RdnHeaders.session, (v) => parseSessionToken(v));
  if (session !== undefined) report.session = session;
  return report;
}

const flagCodes: Array<[string, ErrorCode]> = Object.entries(refusalFlags).map(([code, flag]) => [
  flag!,
  code as ErrorCode,
]);

export type Refusal = { code: ErrorCode; message: string };

/**
 * Why a 402 refused: its flag header if it has one, else the code of its JSON body, else
 * `payment_required`. Reads the body from a clone, so the response stays readable.
 */
export async function readRefusal(res: Response): Promise<Refusal> {
  let fromBody: Refusal | undefined;
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const err = protocolErrorFromBody(await res.clone().json());
      if (err) fromBody = { code: err.code, message: err.message };
    } catch {
      // Not JSON after all: the flags still say why.
    }
  }
  for (const [flag, code] of flagCodes) {
    if (res.headers.get(flag) === "1")
      return { code, message: fromBody?.code === code ? fromBody.message : `Refused: ${code}.` };
  }
  if (fromBody && isErrorCode(fromBody.code)) return fromBody;
  return { code: "payment_required", message: "This request requires a payment." };
}
