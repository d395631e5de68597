#!/usr/bin/env bash
# A real chain's setup with the reel CLI alone (README, "A network of ministries and
# enterprises"): a CA holder and four members, each in its own folder as if on its own
# machine, files passing between them only as the README says. The CA holder makes the
# CA; each member makes its node's TLS key, certificate request and validator key, and a
# signatory key for its organisation; the CA holder signs the requests and assembles
# genesis from what the members sent; every member validates genesis and starts reeld.
# Then the regulator commits a transaction, every validator has it, and a fifth member
# who joins later with the same request and signature follows the chain as an observer.
# Along the way: every file's mode (under umask 077, which must not decide it), and
# wrong inputs refused with the file and the field named and a non-zero exit.
# Usage: reel_chain_setup_test.sh BUILD_DIR
set -uo pipefail
reel="$1/bin/reel"
reeld="$1/bin/reeld"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null; done
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/*.log; do
      [ -e "$f" ] && { echo "--- $(basename "$f") (last 15 lines)"; tail -15 "$f"; }
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
umask 077

# Ports: node i uses base+10i (p2p), +1 (API), +2 (metrics). Below the ephemeral range
# and away from the other tests' fixed ports; a random base, checked free, so that runs
# in parallel (other worktrees) do not meet.
port_free() { ! ss -Htln "sport = :$1" 2> /dev/null | grep -q .; }
pick_base() {
  [ -n "${REEL_BASE_PORT:-}" ] && { echo "$REEL_BASE_PORT"; return 0; }
  local base i k ok
  for _ in $(seq 100); do
    base=$((27200 + (RANDOM % 170) * 10))
    ok=1
    for i in 0 1 2 3 4; do for k in 0 1 2; do port_free $((base + 10 * i + k)) || ok=0; done; done
    [ "$ok" = 1 ] && { echo "$base"; return 0; }
  done
  return 1
}
base="$(pick_base)" || fail "no free ports"
p2p() { echo "127.0.0.1:$((base + 10 * $1))"; }
api() { echo "127.0.0.1:$((base + 10 * $1 + 1))"; }
metrics() { echo "127.0.0.1:$((base + 10 * $1 + 2))"; }
mode() { stat -c %a "$1"; }
expect_mode() { [ "$(mode "$1")" = "$2" ] || fail "$1 has mode $(mode "$1"), not $2"; }
# refused WHAT PATTERN COMMAND...: must exit non-zero with PATTERN in its message.
refused() {
  local what=$1 pattern=$2 out
  shift 2
  out="$("$@" 2>&1)" && fail "$what was accepted: $out"
  echo "$out" | grep -qF -- "$pattern" || fail "$what: the error does not say '$pattern': $out"
}

orgs=(miit mofcom gacc baotou)
names=("Ministry of Industry and Information Technology" "Ministry of Commerce"
  "General Administration of Customs" "China Northern Rare Earth")
kinds=(ministry ministry ministry state-enterprise)
roles=(regulator export-authority customs miner)
dns() { echo "node$1.${orgs[$1]}.reel.test"; }
ca_office="$tmp/ca-office"  # the CA holder's machine; it also assembles genesis
member() { echo "$tmp/member$1"; }
mkdir -p "$ca_office/inbox" "$ca_office/outbox"

# 1. The CA holder makes the chain's CA.
"$reel" ca new --out "$ca_office/ca" --name reel-test-ca > /dev/null || fail "ca new"
expect_mode "$ca_office/ca/ca.key" 600
expect_mode "$ca_office/ca/ca.crt" 644
refused "a second CA over the first" "ca.key exists" "$reel" ca new --out "$ca_office/ca"

# 2. Each member: a node home with its TLS key, request and validator key, and its
# organisation's signatory key. It sends the request and the two public key files.
for i in 0 1 2 3; do
  m="$(member "$i")"
  out="$("$reel" node request --home "$m/node" --dns "$(dns "$i")" --validator)" ||
    fail "node request $i: $out"
  echo "$out" | grep -q "^next: *send $m/node/tls/node.csr" || fail "node request does not say what to send: $out"
  "$reel" keys new "${orgs[$i]}" --dir "$m/keys" > /dev/null || fail "keys new ${orgs[$i]}"
  expect_mode "$m/node/tls/node.key" 600
  expect_mode "$m/node/tls/node.csr" 644
  expect_mode "$m/node/keys/validator_key.json" 600
  expect_mode "$m/node/keys/validator_key.pub" 644
  expect_mode "$m/keys/${orgs[$i]}.key" 600
  expect_mode "$m/keys/${orgs[$i]}.pub" 644
  expect_mode "$m/node/keys" 700
  expect_mode "$m/node/tls" 700
  cp "$m/node/tls/node.csr" "$ca_office/inbox/${orgs[$i]}.csr"
  cp "$m/node/keys/validator_key.pub" "$ca_office/inbox/${orgs[$i]}-validator.pub"
  cp "$m/keys/${orgs[$i]}.pub" "$ca_office/inbox/${orgs[$i]}.pub"
done
# A second request keeps the keys it made (a renewal, or a lost request).
key_before="$(cat "$(member 0)/node/tls/node.key")"
"$reel" node request --home "$(member 0)/node" --dns "$(dns 0)" --validator | grep -q "(kept)" ||
  fail "a second node request did not keep the keys"
[ "$(cat "$(member 0)/node/tls/node.key")" = "$key_before" ] || fail "node request replaced a TLS key"

# 3. The CA holder signs each request for the name the member said, and returns it.
for i in 0 1 2 3; do
  "$reel" ca sign --ca "$ca_office/ca" --csr "$ca_office/inbox/${orgs[$i]}.csr" --dns "$(dns "$i")" \
    --out "$ca_office/outbox/${orgs[$i]}.crt" > /dev/null || fail "ca sign ${orgs[$i]}"
  expect_mode "$ca_office/outbox/${orgs[$i]}.crt" 644
done
refused "a request for another name" "inbox/mofcom.csr: subject CN" \
  "$reel" ca sign --ca "$ca_office/ca" --csr "$ca_office/inbox/mofcom.csr" --dns "$(dns 0)" \
  --out "$tmp/x.crt"
echo "not a request" > "$tmp/garbage.csr"
refused "a file that is no request" "garbage.csr: not a PEM certificate request" \
  "$reel" ca sign --ca "$ca_office/ca" --csr "$tmp/garbage.csr" --out "$tmp/x.crt"
refused "signing over a certificate" "exists" \
  "$reel" ca sign --ca "$ca_office/ca" --csr "$ca_office/inbox/miit.csr" \
  --out "$ca_office/outbox/miit.crt"

# 4. The CA holder assembles genesis from what the members sent.
genesis="$ca_office/genesis.json"
"$reel" genesis new --chain-id reel-setup-test --ca-cert "$ca_office/ca/ca.crt" --out "$genesis" \
  > /dev/null || fail "genesis new"
expect_mode "$genesis" 644
for i in 0 1 2 3; do
  out="$("$reel" genesis add-org --file "$genesis" --org-id "${orgs[$i]}" --name "${names[$i]}" \
    --kind "${kinds[$i]}" --role "${roles[$i]}" --key "$ca_office/inbox/${orgs[$i]}.pub" 2>&1)" ||
    fail "add-org ${orgs[$i]}: $out"
done
for i in 0 1 2 3; do
  out="$("$reel" genesis add-validator --file "$genesis" --org "${orgs[$i]}" \
    --key "$ca_office/inbox/${orgs[$i]}-validator.pub" --address "$(p2p "$i")" \
    --cert "$ca_office/outbox/${orgs[$i]}.crt" 2>&1)" || fail "add-validator ${orgs[$i]}: $out"
  echo "$out" | grep -q "^name: *$(dns "$i")" || fail "the validator is not named by its certificate: $out"
done
expect_mode "$genesis" 644
"$reel" genesis validate --file "$genesis" > /dev/null || fail "the assembled genesis is not valid"

# Wrong parts are refused naming the file and the field, and leave the file as it was.
cp "$genesis" "$tmp/genesis.before"
"$reel" ca new --out "$tmp/other-ca" > /dev/null || fail "other ca new"
"$reel" node request --home "$tmp/stranger" --dns stranger.reel.test --validator > /dev/null ||
  fail "stranger node request"
"$reel" ca sign --ca "$tmp/other-ca" --csr "$tmp/stranger/tls/node.csr" --out "$tmp/stranger.crt" \
  > /dev/null || fail "stranger ca sign"
"$reel" ca sign --ca "$ca_office/ca" --csr "$tmp/stranger/tls/node.csr" --out "$tmp/ok.crt" \
  > /dev/null || fail "ca sign for the stranger"
add_stranger() {  # add_stranger FLAG VALUE...: add-validator with those flags changed
  local -A f=([--org]=miit [--key]="$tmp/stranger/keys/validator_key.pub"
    [--address]="$(p2p 4)" [--cert]="$tmp/ok.crt")
  while [ $# -gt 0 ]; do f[$1]=$2; shift 2; done
  local args=()
  for k in "${!f[@]}"; do args+=("$k" "${f[$k]}"); done
  "$reel" genesis add-validator --file "$genesis" "${args[@]}"
}
refused "a certificate of another CA" "genesis.json: validators[4].tls_cert_pem: $tmp/stranger.crt" \
  add_stranger --cert "$tmp/stranger.crt"
refused "a key that is no key" "genesis.json: validators[4].public_key" add_stranger --key nonsense
refused "another validator's key" "genesis.json: validators[4].public_key: the same key" \
  add_stranger --key "$ca_office/inbox/miit-validator.pub"
refused "another validator's certificate" "genesis.json: validators[4].tls_cert_pem" \
  add_stranger --cert "$ca_office/outbox/miit.crt"
refused "an address without a port" "genesis.json: validators[4].address" \
  add_stranger --address 127.0.0.1
refused "a name the certificate does not hold" "genesis.json: validators[4].name" \
  add_stranger --name other.reel.test
refused "a quorum above the keys" "genesis.json: orgs[4].quorum" \
  "$reel" genesis add-org --file "$genesis" --org-id mnr --name MNR --role regulator \
  --key "$ca_office/inbox/miit.pub" --quorum 2
refused "an organisation twice" "genesis.json: orgs[4].org_id" \
  "$reel" genesis add-org --file "$genesis" --org-id miit --name MIIT --role regulator \
  --key "$ca_office/inbox/miit.pub"
refused "an unknown role" "genesis.json: orgs[4]: --roles" \
  "$reel" genesis add-org --file "$genesis" --org-id mnr --name MNR --role ruler \
  --key "$ca_office/inbox/miit.pub"
refused "a node certificate as the CA" "g2.json: tls_ca_pem" \
  "$reel" genesis new --chain-id x --ca-cert "$ca_office/outbox/miit.crt" --out "$tmp/g2.json"
cmp -s "$genesis" "$tmp/genesis.before" || fail "a refused edit changed genesis.json"
"$reel" genesis new --chain-id x --ca-cert "$ca_office/ca/ca.crt" --out "$tmp/g3.json" > /dev/null
refused "a genesis without organisations" "g3.json: validators" "$reel" genesis validate --file "$tmp/g3.json"
chmod 644 "$(member 1)/node/tls/node.key"
refused "an exposed TLS key" "node.key" "$reel" node request --home "$(member 1)/node" --dns "$(dns 1)"
chmod 600 "$(member 1)/node/tls/node.key"

# 5. Each member gets its certificate and genesis, checks genesis and starts its node.
for i in 0 1 2 3; do
  m="$(member "$i")"
  cp "$ca_office/outbox/${orgs[$i]}.crt" "$m/node/tls/node.crt"
  cp "$genesis" "$m/node/config/genesis.json"
  "$reel" genesis validate --file "$m/node/config/genesis.json" > /dev/null || fail "member $i genesis"
  "$reeld" start --home "$m/node" --p2p.listen "$(p2p "$i")" --api.listen "$(api "$i")" \
    --metrics.listen "$(metrics "$i")" >> "$tmp/node$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2 3; do
  deadline=$((SECONDS + 60))
  until "$reel" status --node "$(api "$i")" > /dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && fail "node $i does not answer on $(api "$i")"
    sleep 0.3
  done
done

# 6. The regulator registers an enterprise: committed, and known to every validator.
"$reel" keys new ningbo --dir "$tmp/ningbo" > /dev/null || fail "keys new ningbo"
out="$("$reel" tx register-org --node "$(api 0)" --key "$(member 0)/keys/miit.key" \
  --org-id ningbo-magnets --name "Ningbo Magnet Works" --kind private-enterprise --role processor \
  --signatory-key "$tmp/ningbo/ningbo.pub" --quorum 1 2>&1)" || fail "register-org: $out"
echo "$out" | grep -q "^status: *TX_STATUS_COMMITTED" || fail "register-org did not commit: $out"
height="$(echo "$out" | sed -n 's/^height: *//p')"
for i in 0 1 2 3; do
  # A node learns of a commit a round after the leader that formed the QC: wait for it.
  deadline=$((SECONDS + 30))
  until [ "$("$reel" --json status --node "$(api "$i")" 2> /dev/null | jq -r '.height // "0"')" -ge "$height" ]; do
    [ $SECONDS -ge $deadline ] && fail "node $i did not reach height $height"
    sleep 0.2
  done
  out="$("$reel" query org --id ningbo-magnets --node "$(api "$i")" 2>&1)" ||
    fail "node $i does not know ningbo-magnets: $out"
done

# 7. A member who joins later makes the same request and has it signed the same way;
# without a place in genesis its node is an observer and follows the chain.
late="$tmp/member4"
"$reel" node request --home "$late/node" --dns node4.late.reel.test > /dev/null || fail "late request"
cp "$late/node/tls/node.csr" "$ca_office/inbox/late.csr"
"$reel" ca sign --ca "$ca_office/ca" --csr "$ca_office/inbox/late.csr" --out "$ca_office/outbox/late.crt" \
  > /dev/null || fail "late ca sign"
cp "$ca_office/outbox/late.crt" "$late/node/tls/node.crt"
cp "$genesis" "$late/node/config/genesis.json"
"$reeld" start --home "$late/node" --p2p.listen "$(p2p 4)" --api.listen "$(api 4)" \
  --metrics.listen "$(metrics 4)" >> "$tmp/node4.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 90))
until "$reel" query org --id ningbo-magnets --node "$(api 4)" > /dev/null 2>&1; do
  [ $SECONDS -ge $deadline ] && fail "the late observer did not sync to height $height"
  sleep 0.5
done
echo "reel chain setup: all checks passed (ports $base-$((base + 42)))"
