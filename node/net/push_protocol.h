// Private to node/net: how a Push or gossip stream says it is open.
//
// A server sends this initial metadata on a Push or GossipTxsStream once the caller is
// authenticated and has a stream slot. A client waits for it before it takes a message
// off its queue: a stream that is refused (or a server that is down) then costs no
// message, and a message is only ever lost on a stream that broke after it opened.
#pragma once

namespace reel::net {

inline constexpr char kPushAcceptedKey[] = "reel-push";
inline constexpr char kPushAcceptedValue[] = "accepted";

}  // namespace reel::net
