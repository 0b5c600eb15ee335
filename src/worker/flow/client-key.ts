// Who a client without a channel is, for flow control: its IP address as the edge saw it
// (`CF-Connecting-IP`, else the first `X-Forwarded-For` entry, else "local"), in one canonical
// spelling. An IPv6 client is keyed by its prefix (FLOW_KEY_PREFIX bits, default 64), since
// one subscriber usually holds a whole /64 and could otherwise mint a fresh bucket per address.
// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.

/** The key of a request whose address is unknown (local runs without a proxy in front). */
export const LOCAL_CLIENT = "local";

/** The flow-control key of this request's client. */
export function clientKey(headers: Headers, ipv6PrefixBits: number): string {
  const candidates = [headers.get("cf-connecting-ip"), headers.get("x-forwarded-for")?.split(",")[0]];
  for (const raw of candidates) {
    const key = raw ? canonicalIp(raw, ipv6PrefixBits) : null;
    if (key) return key;
  }
  return LOCAL_CLIENT;
}

/** `a.b.c.d` for IPv4, `xxxx:…:xxxx/bits` (eight groups, masked) for IPv6, or null. */
export function canonicalIp(text: string, ipv6PrefixBits: number): string | null {
  let s = text.trim();
  if (s.startsWith("[")) s = s.slice(1, s.indexOf("]") < 0 ? undefined : s.indexOf("]"));
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const v4 = parseIpv4(s);
  if (v4) return v4.join(".");
  const v6 = parseIpv6(s);
  if (!v6) return null;
  // ::ffff:a.b.c.d is an IPv4 client.
  if (v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff) {
    return [v6[6]! >> 8, v6[6]! & 0xff, v6[7]! >> 8, v6[7]! & 0xff].join(".");
  }
  const bits = Math.min(128, Math.max(1, Math.floor(ipv6PrefixBits)));
  const masked = v6.map((g, i) => {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(":")}/${bits}`;
}

function parseIpv4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseIpv6(s: string): number[] | null {
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIpv4(item);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
