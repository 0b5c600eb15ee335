// Reading an x402 v2 `PAYMENT-SIGNATURE` (PROTOCOL.md section 5): x402's own decoder and schema
// give the `PaymentPayload`, then its scheme says what it is. A `channel` payload becomes the
// very `Payment` the `RDN-*` headers would have made, parsed by the same codec (its fields are
// the payment headers under short names), so everything after the reading step is one code
// path. An `exact` payload is kept whole for the facilitator. Only the shape and this server's
// terms are checked here; the payment's worth is judged later, as for `RDN-*`.
import { decodePaymentSignatureHeader } from "@x402/core/http";
import { PaymentPayloadV2Schema } from "@x402/core/schemas";
import type { PaymentPayload } from "@x402/core/types";
import { parsePaymentHeaders, type Payment } from "../../protocol/codec.js";
import { isProtocolError, ProtocolError } from "../../protocol/errors.js";
import { RdnHeaders } from "../../protocol/headers.js";
import { caip2Network, CHANNEL_SCHEME, X402Headers } from "../../protocol/x402.js";
import type { Config } from "../config.js";

/** The longest `PAYMENT-SIGNATURE` read (an `exact` or `channel` payload is well under 2 KiB). */
export const MAX_PAYMENT_SIGNATURE_LENGTH = 16 * 1024;

/** A `channel` payment that came as x402: the payment, and the payload that carried it. */
export type X402ChannelPayment = Payment & { x402: PaymentPayload };
/** An `exact` payment, for the facilitator. */
export type X402ExactPayment = { kind: "exact"; x402: PaymentPayload };

/** Each `channel` payload field, and the `RDN-*` header it stands for. */
const channelFields: Readonly<Record<string, string>> = {
  sender: RdnHeaders.senderAddress,
  openBlock: RdnHeaders.openBlock,
  balance: RdnHeaders.balance,
  signature: RdnHeaders.balanceSignature,
  session: RdnHeaders.session,
};

function malformed(reason: string, field?: string): never {
  throw new ProtocolError(
    "malformed_payment_signature",
    `${X402Headers.paymentSignature}${field ? ` ${field}` : ""}: ${reason}.`,
    { header: X402Headers.paymentSignature, ...(field ? { field } : {}) },
  );
}

/** x402's decoding and v2 schema; anything else is `malformed_payment_signature`. */
function decodePayload(value: string): PaymentPayload {
  if (value.length > MAX_PAYMENT_SIGNATURE_LENGTH) malformed(`longer than ${MAX_PAYMENT_SIGNATURE_LENGTH} characters`);
  let decoded: unknown;
  try {
    decoded = decodePaymentSignatureHeader(value);
  } catch {
    malformed("not base64 of a JSON payment payload");
  }
  const parsed = PaymentPayloadV2Schema.safeParse(decoded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    malformed(issue ? issue.message : "not an x402 v2 payment payload", issue?.path.join("."));
  }
  // The schema's output is a copy; the payload as sent is what the facilitator must see.
  return decoded as PaymentPayload;
}

/** The `channel` payload as a `Payment`, through the `RDN-*` codec. */
function channelPayment(payload: unknown): Payment {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) malformed("not an object", "payload");
  const fields = payload as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (!(key in channelFields)) malformed("unknown field", `payload.${key}`);
    if (typeof value !== "string") malformed("expected a string", `payload.${key}`);
  }
  const byHeader = new Map(Object.entries(channelFields).map(([field, header]) => [header, field]));
  try {
    const payment = parsePaymentHeaders((header) => fields[byHeader.get(header)!] as string | undefined);
    if (!payment) malformed("neither a balance proof nor a session", "payload");
    return payment;
  } catch (err) {
    if (!isProtocolError(err) || err.code !== "malformed_header") throw err;
    const field = byHeader.get(err.details?.header ?? "");
    malformed(err.message.replace(/^[^:]*: /, "").replace(/\.$/, ""), field ? `payload.${field}` : "payload");
  }
}

/**
 * The payment a `PAYMENT-SIGNATURE` carries.
 *
 * @throws ProtocolError `malformed_payment_signature` for a header that is not an x402 v2
 *   payload or a malformed `channel` payload; `unsupported_payment_scheme` for a scheme this
 *   server does not offer; `payment_requirements_mismatch` for a `channel` payment to another
 *   network, token or receiver; `invalid_balance_proof` for a signature that breaks the
 *   signature rules (as its `RDN-*` header would).
 */
export function readX402Payment(value: string, config: Config): X402ChannelPayment | X402ExactPayment {
  const x402 = decodePayload(value);
  const { scheme } = x402.accepted;
  if (scheme === "exact" && config.x402Exact) return { kind: "exact", x402 };
  if (scheme !== CHANNEL_SCHEME)
    throw new ProtocolError("unsupported_payment_scheme", `This route does not take the x402 scheme "${scheme}".`, {
      scheme,
    });
  const { network, asset, payTo } = x402.accepted;
  if (
    network !== caip2Network(config.chainId) ||
    asset.toLowerCase() !== config.token.toLowerCase() ||
    payTo.toLowerCase() !== config.receiverAddress.toLowerCase()
  ) {
    throw new ProtocolError(
      "payment_requirements_mismatch",
      `The channel payment is for ${asset} to ${payTo} on ${network}; this route takes ${config.token} to ${config.receiverAddress} on ${caip2Network(config.chainId)}.`,
    );
  }
  return { ...channelPayment(x402.payload), x402 };
}
