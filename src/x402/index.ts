// `edge402/x402`: edge402's payment channels as an x402 v2 scheme (`channel`) for @x402/core's
// `x402Client`, so any x402 transport (@x402/fetch, @x402/axios) pays edge402 through a channel.
// The Worker's side of x402 is part of `edge402/worker`; the wire names are in `edge402/protocol`.
export { channelScheme, ChannelScheme, type ChannelSchemeOptions } from "./channel-scheme.js";
