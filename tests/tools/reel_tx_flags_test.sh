#!/usr/bin/env bash
# The named flags of `reel tx ACTION` make the body they say (checked with --dry-run,
# which prints the body without a node): records, compositions, enums in any case,
# comma lists, key files as keys, a wrapped role set, and the signer from the key name.
# And `reel tx --help` lists every case of TxBody.action in tx.proto (the second argument):
# it comes from the ledger's table of kinds, the one place a kind is listed.
set -uo pipefail
reel="$1"
tx_proto="$2"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$reel" keys new miit --dir "$dir" > /dev/null || fail "keys new"
body() { "$reel" tx "$@" --key "$dir/miit.key" --chain-id test --dry-run 2>&1; }
is() {  # is JSON JQ-FILTER EXPECTED
  [ "$(jq -c "$2" <<< "$1")" = "$3" ] || fail "$2 is $(jq -c "$2" <<< "$1" 2>&1), not $3"
}

out=$(body process --input-lot A,B --output P:separated-oxide:12000:PR=2800,ND=9100 \
      --output Q:1:z:mixed_oxide:5:LA=1 --site plant) || fail "process: $out"
is "$out" .org_id '"miit"'
is "$out" .process.input_lot_ids '["A","B"]'
is "$out" '.process.outputs[0]' \
  '{"lot_id":"P","product":"PRODUCT_FORM_SEPARATED_OXIDE","mass_g":"12000","composition":{"amounts":[{"element":"ELEMENT_PR","reo_g":"2800"},{"element":"ELEMENT_ND","reo_g":"9100"}]}}'
is "$out" '.process.outputs[1].lot_id' '"Q:1:z"'

out=$(body update-org --org x --roles '' --status suspended) || fail "update-org: $out"
is "$out" .update_org '{"org_id":"x","status":"ORG_STATUS_SUSPENDED","roles":{}}'

pk=$("$reel" --json keys show "$dir/miit.key" | jq -r .public_key_base64)
out=$(body register-org --org-id n --name N --kind private-enterprise --role processor,EXPORTER \
      --signatory-key "$dir/miit.key" --quorum 1) || fail "register-org: $out"
is "$out" .register_org.roles '["ROLE_PROCESSOR","ROLE_EXPORTER"]'
is "$out" .register_org.signatory_keys "[\"$pk\"]"

out=$(body set-export-restriction --restriction R --end-user "Falcon, Inc" --country US,DE \
      --effect deny --revoke-outstanding --signer mofcom) || fail "restriction: $out"
is "$out" .org_id '"mofcom"'
is "$out" .set_export_restriction.match '{"countries":["US","DE"],"end_users":["Falcon, Inc"]}'
is "$out" .set_export_restriction.revoke_outstanding true

out=$(body record-violation --violation V --org x --kind smuggling --illegal-revenue-fen 1000 \
      --multiplier 5 --fine-fen 5000 --seize-lot L1,L2 --suspend) || fail "violation: $out"
is "$out" .record_violation.seize_lot_ids '["L1","L2"]'
is "$out" .record_violation.kind '"VIOLATION_KIND_SMUGGLING"'
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' > "$dir/v5.crt"
out=$(body propose-validator-change --change add-v5 --add-name v5 --add-org miit \
      --add-public-key "$dir/miit.key" --add-address 10.0.0.5:7000 \
      --add-tls-cert-pem "$dir/v5.crt") || fail "propose add: $out"
is "$out" .propose_validator_change.add.name '"v5"'
is "$out" .propose_validator_change.add.public_key "\"$pk\""
is "$out" .propose_validator_change.add.tls_cert_pem \
  '"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"'
out=$(body propose-validator-change --change rm --remove-name v4) || fail "propose remove: $out"
is "$out" .propose_validator_change '{"change_id":"rm","remove":{"name":"v4"}}'
out=$(body propose-validator-change --change t --consensus-round-timeout-ms 3000) ||
  fail "propose timings: $out"
is "$out" .propose_validator_change.consensus '{"round_timeout_ms":"3000"}'

help=$("$reel" tx --help) || fail "reel tx --help"
actions=$(sed -n '/oneof action {/,/}/p' "$tx_proto" | sed -nE 's/^ +[A-Z][A-Za-z]* ([a-z_]+) = [0-9]+;.*/\1/p')
[ -n "$actions" ] || fail "no cases of TxBody.action found in $tx_proto"
for action in $actions; do
  grep -qE "^  ${action//_/-}[ ,]" <<< "$help" || fail "reel tx --help does not list $action"
done
echo "reel tx flags: all checks passed"
