// Signatures through the wallet (`eth_signTypedData_v4`): the protocol's balance proof and close
// request, built by src/protocol/eip712.ts exactly as the Worker and the contract hash them, and
// the token's EIP-2612 permit for `createChannelWithPermit`. Each call is one wallet prompt.
import { getTypesForEIP712Domain, serializeTypedData, type Address, type Hex, type TypedDataDomain } from "viem";
import {
  balanceProofTypedData,
  closeRequestTypedData,
  permitTypes,
  type BalanceProofParameters,
  type CloseRequestParameters,
} from "../protocol/eip712.js";
import { normalizeSignature } from "../protocol/signature.js";
import { walletRequest, type Wallet } from "./wallet.js";

type TypedData = {
  domain: TypedDataDomain;
  types: Record<string, readonly { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
};

async function signTypedData(wallet: Wallet, from: Address, typedData: TypedData, what: string): Promise<Hex> {
  const types = { EIP712Domain: getTypesForEIP712Domain({ domain: typedData.domain }), ...typedData.types };
  const json = serializeTypedData({ ...typedData, types } as Parameters<typeof serializeTypedData>[0]);
  const signature = await walletRequest<string>(wallet, "eth_signTypedData_v4", [from, json], what);
  return normalizeSignature(signature);
}

export function signBalanceProof(wallet: Wallet, from: Address, p: BalanceProofParameters): Promise<Hex> {
  return signTypedData(wallet, from, balanceProofTypedData(p), "signing the payment");
}

export function signCloseRequest(wallet: Wallet, from: Address, p: CloseRequestParameters): Promise<Hex> {
  return signTypedData(wallet, from, closeRequestTypedData(p), "signing the close request");
}

/** The owner's EIP-2612 permit for `spender` to take `value`, split into v, r and s. */
export async function signPermit(
  wallet: Wallet,
  p: {
    domain: { name: string; version: string; chainId: number; verifyingContract: Address };
    owner: Address;
    spender: Address;
    value: bigint;
    nonce: bigint;
    deadline: bigint;
  },
): Promise<{ v: number; r: Hex; s: Hex }> {
  const { owner, spender, value, nonce, deadline } = p;
  const signature = await signTypedData(
    wallet,
    owner,
    {
      domain: p.domain,
      types: permitTypes,
      primaryType: "Permit",
      message: { owner, spender, value, nonce, deadline },
    },
    "signing the deposit permit",
  );
  return {
    r: signature.slice(0, 66) as Hex,
    s: `0x${signature.slice(66, 130)}`,
    v: Number.parseInt(signature.slice(130), 16),
  };
}
