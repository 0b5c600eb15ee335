import { describe, expect, it } from "vitest";
import { Edge402Error } from "./errors.js";
import { readChannelReport, readRefusal, readTerms } from "./response.js";

const terms = {
  "RDN-Gateway-Path": "/api/1",
  "RDN-Receiver-Address": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  "RDN-Contract-Address": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  "RDN-Token-Address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "RDN-Chain-Id": "31337",
  "RDN-Price": "5",
};
const SIG =
  "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b";

describe("readTerms", () => {
  it("reads the terms of a priced route", () => {
    const t = readTerms(new Headers(terms), "http://127.0.0.1:8787/echofix/hi?x=1");
    expect(t).toEqual({
      origin: "http://127.0.0.1:8787",
      gatewayPath: "/api/1",
      gateway: "http://127.0.0.1:8787/api/1",
      receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      chainId: 31337,
      price: 5n,
    });
  });

  it("is null without terms, and invalid_terms with incomplete or malformed ones", () => {
    expect(readTerms(new Headers({ "content-type": "text/plain" }), "http://x/")).toBeNull();
    const incomplete = new Headers(terms);
    incomplete.delete("RDN-Price");
    expect(() => readTerms(incomplete, "http://x/")).toThrow(/RDN-Price/);
    for (const [name, bad] of [
      ["RDN-Price", "5.0"],
      ["RDN-Price", "0x5"],
      ["RDN-Chain-Id", "-1"],
      ["RDN-Receiver-Address", "0x1234"],
      ["RDN-Gateway-Path", "api/1"],
    ] as const) {
      const err = (() => {
        try {
          readTerms(new Headers({ ...terms, [name]: bad }), "http://x/");
        } catch (e) {
          return e;
        }
      })();
      expect(err, `${name}: ${bad}`).toBeInstanceOf(Edge402Error);
      expect((err as Edge402Error).code).toBe("invalid_terms");
    }
  });
});

describe("readChannelReport", () => {
  it("reads B, its signature, deposit, credit, cost and session", () => {
    const report = readChannelReport(
      new Headers({
        "RDN-Sender-Address": "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
        "RDN-Open-Block": "4",
        "RDN-Sender-Balance": "25",
        "RDN-Balance-Signature": SIG,
        "RDN-Deposit": "500",
        "RDN-Credit": "0",
        "RDN-Cost": "5",
        "RDN-Session": "s1.abc.4.99.mac",
      }),
    );
    expect(report).toEqual({
      sender: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
      openBlock: 4,
      balance: 25n,
      signature: SIG,
      deposit: 500n,
      credit: 0n,
      cost: 5n,
      session: "s1.abc.4.99.mac",
    });
  });

  it("is null without a channel, and drops parts that do not parse", () => {
    expect(readChannelReport(new Headers({ "RDN-Open-Block": "4" }))).toBeNull();
    const r = readChannelReport(
      new Headers({
        "RDN-Sender-Address": "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
        "RDN-Open-Block": "4",
        "RDN-Sender-Balance": "0",
        "RDN-Balance-Signature": "0xnope",
        "RDN-Credit": "x",
      }),
    );
    expect(r).toEqual({ sender: "0x90F79bf6EB2c4f870365E785982E1f101E93b906", openBlock: 4, balance: 0n });
  });
});

describe("readRefusal", () => {
  const body = (code: string) => JSON.stringify({ error: { code, message: `because ${code}` } });
  const json = { "content-type": "application/json" };

  it("takes the flag header first, with the body's message when they agree", async () => {
    const res = new Response(body("invalid_amount"), { status: 402, headers: { ...json, "RDN-Invalid-Amount": "1" } });
    expect(await readRefusal(res)).toEqual({ code: "invalid_amount", message: "because invalid_amount" });
    expect(await res.text()).toContain("invalid_amount");
    const flagOnly = new Response("<html>", {
      status: 402,
      headers: { "content-type": "text/html", "RDN-Insufficient-Confirmations": "1" },
    });
    expect((await readRefusal(flagOnly)).code).toBe("insufficient_confirmations");
  });

  it("falls back to the body's code, then to payment_required", async () => {
    expect((await readRefusal(new Response(body("invalid_session"), { status: 402, headers: json }))).code).toBe(
      "invalid_session",
    );
    expect((await readRefusal(new Response("nope", { status: 402 }))).code).toBe("payment_required");
    expect((await readRefusal(new Response(body("made_up"), { status: 402, headers: json }))).code).toBe(
      "payment_required",
    );
  });
});
