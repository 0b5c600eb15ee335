import { createWalletClient, custom, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { signBalanceProof, signCloseRequest, signClosingProof, type TypedDataSigner } from "./sign.js";

// anvil accounts 0 (sender) and 1 (receiver)
const senderAccount = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const receiverAccount = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const chainId = 31337;
const contract: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const sender: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const receiver: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

// RFC 6979 signatures are deterministic: pinned once, a regression changes them.
const BALANCE_PROOF_SIG =
  "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b";
const CLOSING_PROOF_SIG =
  "0xacf687de7b430636710dec2ebe4e246b3bd60d8964e8cacbd45107173fd586683b6bc0e08bfff8d6982967f2175a60edc201ebcfac13344dbcf991caf9f5c8bd1c";
const CLOSE_REQUEST_SIG =
  "0xee12b751c6fa7259ddc445b6ae6bb853d61b131afa2ad8f611ee1bb31f1df62b70b793b7decc9c92c8764ffae615a1aeca778c0624312afe6585c03321dc26cc1b";

describe("signing", () => {
  it("uses anvil's well-known accounts", () => {
    expect(senderAccount.address).toBe(sender);
    expect(receiverAccount.address).toBe(receiver);
  });

  it("signs a balance proof deterministically", async () => {
    expect(await signBalanceProof(senderAccount, { chainId, contract, receiver, openBlock: 7, balance: 15n })).toBe(
      BALANCE_PROOF_SIG,
    );
  });

  it("signs a closing proof and a close request", async () => {
    expect(await signClosingProof(receiverAccount, { chainId, contract, sender, openBlock: 7, balance: 10n })).toBe(
      CLOSING_PROOF_SIG,
    );
    expect(
      await signCloseRequest(senderAccount, { chainId, contract, receiver, openBlock: 7, deadline: 1_700_000_000n }),
    ).toBe(CLOSE_REQUEST_SIG);
  });

  it("accepts a WalletClient that carries its account", async () => {
    const wallet = createWalletClient({
      account: senderAccount,
      transport: custom({
        request: async () => {
          throw new Error("a local account signs without the transport");
        },
      }),
    });
    expect(await signBalanceProof(wallet, { chainId, contract, receiver, openBlock: 7, balance: 15n })).toBe(
      BALANCE_PROOF_SIG,
    );
  });

  it("passes the full typed data to a JSON-RPC style signer", async () => {
    const seen: unknown[] = [];
    const signer: TypedDataSigner = {
      signTypedData: async (td: unknown) => {
        seen.push(td);
        return "0x01";
      },
    };
    await signBalanceProof(signer, { chainId, contract, receiver, openBlock: 7, balance: 15n });
    expect(seen[0]).toMatchObject({
      domain: { name: "MicroTransferChannels", version: "1", chainId, verifyingContract: contract },
      primaryType: "BalanceProof",
      message: { receiver, openBlock: 7, balance: 15n },
    });
  });
});
