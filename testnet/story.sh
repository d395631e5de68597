#!/usr/bin/env bash
# testnet/story.sh: the custody story from mine to border, told with the reel CLI
# against a running network (testnet/up.sh). Every step says what it does; a step
# that does not end as the rules say stops the story with a non-zero exit.
#   REEL_NODE (default node0's API) is where transactions go; keys come from
#   testnet/.run/keys (the ministries' keys from `reel testnet init`, the
#   enterprises' keys made here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
reel="$bin_dir/reel"
node="${REEL_NODE:-$(api_addr 0)}"
keys="$run_dir/keys"
run_tag="${REEL_STORY_TAG:-$(date +%s)}"  # lot and licence ids are unique forever
year="$(TZ=Asia/Shanghai date +%Y)"        # quota year: the block time's year in UTC+8
valid_until=$(( ($(date +%s) + 90 * 86400) * 1000 ))

say() { printf '\n== %s\n' "$*"; }
fail() { echo "STORY FAILED: $*" >&2; exit 1; }

# tx SIGNER BODY-JSON: signs with SIGNER's key and waits for the commit.
tx() {
  local signer=$1 body=$2 out
  body="$(jq -c --arg org "$signer" '. + {org_id: $org}' <<< "$body")"
  if ! out="$("$reel" --json tx --node "$node" --key "$keys/$signer.key" --body "$body" 2>&1)"; then
    fail "$signer: $(echo "$out" | tail -1)"
  fi
  echo "   committed at height $(jq -r '.height' <<< "$out" 2>/dev/null || echo '?')"
}
# refused SIGNER BODY-JSON CODE: the rules must refuse it with CODE.
refused() {
  local signer=$1 body=$2 code=$3 out
  body="$(jq -c --arg org "$signer" '. + {org_id: $org}' <<< "$body")"
  if out="$("$reel" --json tx --node "$node" --key "$keys/$signer.key" --body "$body" 2>&1)"; then
    fail "expected $code, but it was accepted"
  fi
  echo "$out" | grep -q "$code" || fail "expected $code, got: $(echo "$out" | tail -1)"
  echo "   refused: $(echo "$out" | tail -1 | sed 's/^reel: transaction refused: //')"
}
query() { "$reel" query --node "$node" "$1" --request "$2"; }
key_b64() { "$reel" --json keys show "$keys/$1.key" | jq -r .public_key_base64; }
lot() { echo "$1-$run_tag"; }
comp() {  # comp EL=GRAMS ... -> Composition JSON
  local items=() pair
  for pair in "$@"; do items+=("{\"element\":\"ELEMENT_${pair%%=*}\",\"reo_g\":\"${pair#*=}\"}"); done
  (IFS=,; echo "{\"amounts\":[${items[*]}]}")
}

say "MIIT registers the enterprises of the chain"
for org in baotou-mining ganzhou-re ningbo-magnets sino-export; do
  [ -f "$keys/$org.key" ] || "$reel" keys new "$org" --dir "$keys" > /dev/null
done
register() {  # register ID NAME KIND ROLE
  echo "-- $2 ($3, $4)"
  tx miit "{\"register_org\":{\"org_id\":\"$1\",\"name\":\"$2\",\"kind\":\"ORG_KIND_$3\",
    \"roles\":[\"ROLE_$4\"],\"signatory_keys\":[\"$(key_b64 "$1")\"],\"quorum\":1}}"
}
if ! query GetOrg '{"org_id":"baotou-mining"}' > /dev/null 2>&1; then
  register baotou-mining "Baotou Rare Earth Mining" STATE_ENTERPRISE MINER
  register ganzhou-re "Ganzhou Rare Earth Separation" STATE_ENTERPRISE SMELTER_SEPARATOR
  register ningbo-magnets "Ningbo Magnet Works (private)" PRIVATE_ENTERPRISE PROCESSOR
  register sino-export "Sino Rare Earth Export (private)" PRIVATE_ENTERPRISE EXPORTER

  say "MIIT registers two mines and two plants, and sets the $year quotas"
  site() {
    echo "-- site $1 of $2"
    tx miit "{\"register_site\":{\"site_id\":\"$1\",\"org_id\":\"$2\",\"name\":\"$3\",
      \"kind\":\"SITE_KIND_$4\"${5:+,\"deposit_type\":\"DEPOSIT_TYPE_$5\",\"province\":\"$6\"}}}"
  }
  site bayan-obo baotou-mining "Bayan Obo mine" MINE ROCK "Inner Mongolia"
  site longnan baotou-mining "Longnan ion-clay mine" MINE ION_ADSORPTION Jiangxi
  site ganzhou-plant ganzhou-re "Ganzhou separation plant" PLANT
  site ningbo-plant ningbo-magnets "Ningbo magnet plant" PLANT
  quota() {
    echo "-- quota $2 for $1: $3 g REO"
    tx miit "{\"set_quota\":{\"org_id\":\"$1\",\"year\":$year,\"category\":\"QUOTA_CATEGORY_$2\",\"amount_g\":\"$3\"}}"
  }
  quota baotou-mining MINING_LIGHT 500000000
  quota baotou-mining MINING_MEDIUM_HEAVY 50000000
  quota ganzhou-re SMELTING_SEPARATION 600000000
else
  echo "   (already registered on this chain: the story goes on with new lots)"
fi

say "Baotou Mining extracts ore at Bayan Obo (rock) and concentrate at Longnan (ion clay)"
tx baotou-mining "{\"extract\":{\"site_id\":\"bayan-obo\",\"lot_id\":\"$(lot BO-ORE)\",\"product\":\"PRODUCT_FORM_ORE\",
  \"mass_g\":\"500000000\",\"composition\":$(comp LA=10000000 CE=20000000 PR=3000000 ND=9000000)}}"
tx baotou-mining "{\"extract\":{\"site_id\":\"longnan\",\"lot_id\":\"$(lot LN-CON)\",\"product\":\"PRODUCT_FORM_CONCENTRATE\",
  \"mass_g\":\"6000000\",\"composition\":$(comp ND=500000 TB=100000 DY=1400000)}}"

say "An extraction beyond the medium-heavy quota is refused"
refused baotou-mining "{\"extract\":{\"site_id\":\"longnan\",\"lot_id\":\"$(lot LN-CON-X)\",\"product\":\"PRODUCT_FORM_CONCENTRATE\",
  \"mass_g\":\"900000000\",\"composition\":$(comp DY=60000000)}}" QUOTA_EXCEEDED

say "Custody passes to Ganzhou Separation in two steps: offer, then accept"
tx baotou-mining "{\"transfer_offer\":{\"offer_id\":\"$(lot SHIP-1)\",\"lot_ids\":[\"$(lot BO-ORE)\",\"$(lot LN-CON)\"],\"to_org_id\":\"ganzhou-re\"}}"
tx ganzhou-re "{\"transfer_accept\":{\"offer_id\":\"$(lot SHIP-1)\"}}"

say "Ganzhou separates NdPr and Dy oxides (and a La-Ce mixed oxide); the loss is recorded and the quota used"
tx ganzhou-re "{\"process\":{\"site_id\":\"ganzhou-plant\",\"input_lot_ids\":[\"$(lot BO-ORE)\",\"$(lot LN-CON)\"],\"outputs\":[
  {\"lot_id\":\"$(lot NDPR-OX)\",\"product\":\"PRODUCT_FORM_SEPARATED_OXIDE\",\"mass_g\":\"12000000\",\"composition\":$(comp PR=2800000 ND=9100000)},
  {\"lot_id\":\"$(lot DY-OX)\",\"product\":\"PRODUCT_FORM_SEPARATED_OXIDE\",\"mass_g\":\"1500000\",\"composition\":$(comp TB=90000 DY=1350000)},
  {\"lot_id\":\"$(lot LACE)\",\"product\":\"PRODUCT_FORM_MIXED_OXIDE\",\"mass_g\":\"30000000\",\"composition\":$(comp LA=9500000 CE=19000000)}]}}"

say "The oxides go to Ningbo Magnet Works, a private company"
tx ganzhou-re "{\"transfer_offer\":{\"offer_id\":\"$(lot SHIP-2)\",\"lot_ids\":[\"$(lot NDPR-OX)\",\"$(lot DY-OX)\"],\"to_org_id\":\"ningbo-magnets\"}}"
tx ningbo-magnets "{\"transfer_accept\":{\"offer_id\":\"$(lot SHIP-2)\"}}"

say "A private company may not separate rare earths: refused"
refused ningbo-magnets "{\"process\":{\"input_lot_ids\":[\"$(lot DY-OX)\"],\"outputs\":[
  {\"lot_id\":\"$(lot DY-X)\",\"product\":\"PRODUCT_FORM_SEPARATED_OXIDE\",\"mass_g\":\"1000000\",\"composition\":$(comp DY=1000000)}]}}" UNAUTHORIZED_ROLE

say "Ningbo makes NdFeB magnets (iron and boron add mass) and splits them into three lots"
tx ningbo-magnets "{\"process\":{\"site_id\":\"ningbo-plant\",\"input_lot_ids\":[\"$(lot NDPR-OX)\",\"$(lot DY-OX)\"],\"outputs\":[
  {\"lot_id\":\"$(lot MAG)\",\"product\":\"PRODUCT_FORM_MAGNET\",\"mass_g\":\"40000000\",\"composition\":$(comp PR=2700000 ND=9000000 TB=80000 DY=1300000)}]}}"
tx ningbo-magnets "{\"split\":{\"lot_id\":\"$(lot MAG)\",\"parts\":[{\"lot_id\":\"$(lot MAG-A)\",\"mass_g\":\"10000000\"},
  {\"lot_id\":\"$(lot MAG-B)\",\"mass_g\":\"10000000\"},{\"lot_id\":\"$(lot MAG-C)\",\"mass_g\":\"20000000\"}]}}"
tx ningbo-magnets "{\"transfer_offer\":{\"offer_id\":\"$(lot SHIP-3)\",\"lot_ids\":[\"$(lot MAG-A)\",\"$(lot MAG-B)\",\"$(lot MAG-C)\"],\"to_org_id\":\"sino-export\"}}"
tx sino-export "{\"transfer_accept\":{\"offer_id\":\"$(lot SHIP-3)\"}}"

apply() {  # apply LICENCE COUNTRY END_USER INDUSTRY GRAMS
  tx sino-export "{\"apply_export_license\":{\"licence_id\":\"$1\",\"destination_country\":\"$2\",
    \"consignee\":\"Consignee of $3\",\"end_user\":\"$3\",\"industry\":\"INDUSTRY_$4\",\"product\":\"PRODUCT_FORM_MAGNET\",
    \"elements\":[\"ELEMENT_PR\",\"ELEMENT_ND\",\"ELEMENT_TB\",\"ELEMENT_DY\"],\"mass_g\":\"$5\",\"purpose\":\"motors\"}}"
}
licence_status() { query GetLicence "{\"licence_id\":\"$1\"}" | jq -r .licence.status; }
# A story told before on this chain left its restriction in force: lift it first, so
# that this telling starts from the same rules.
for old in $(query ListRestrictions '{"active_only":true,"page_size":100}' |
             jq -r '.restrictions[]? | select(.restriction_id | startswith("R-FALCON-")) | .restriction_id'); do
  say "MOFCOM lifts $old, left in force by an earlier telling of this story"
  tx mofcom "{\"lift_export_restriction\":{\"restriction_id\":\"$old\",\"reason\":\"demo told again\"}}"
done
say "Sino Export applies for a licence to Falcon Defense Systems (US, defense); MOFCOM grants it"
apply "$(lot LIC-A)" US "Falcon Defense Systems" DEFENSE 10000000
tx mofcom "{\"decide_export_license\":{\"licence_id\":\"$(lot LIC-A)\",\"decision\":\"DECISION_GRANT\",\"valid_until_ms\":\"$valid_until\",\"reason\":\"reviewed\"}}"

say "MOFCOM sets a targeted restriction on one end user, revoking its outstanding licence"
tx mofcom "{\"set_export_restriction\":{\"restriction_id\":\"$(lot R-FALCON)\",\"match\":{\"end_users\":[\"falcon defense systems\"]},
  \"effect\":\"RESTRICTION_EFFECT_DENY\",\"reason\":\"national security\",\"revoke_outstanding\":true}}"
[ "$(licence_status "$(lot LIC-A)")" = LICENCE_STATUS_REVOKED ] || fail "LIC-A was not revoked"
echo "   $(lot LIC-A): LICENCE_STATUS_REVOKED"

say "A new application for the same end user is denied at once; one to a wind-turbine maker in Germany is not"
apply "$(lot LIC-B)" US "Falcon Defense Systems " AEROSPACE 10000000
[ "$(licence_status "$(lot LIC-B)")" = LICENCE_STATUS_DENIED ] || fail "LIC-B was not denied"
echo "   $(lot LIC-B): LICENCE_STATUS_DENIED by $(lot R-FALCON)"
apply "$(lot LIC-C)" DE "Nordwind Turbinen" WIND_ENERGY 20000000
tx mofcom "{\"decide_export_license\":{\"licence_id\":\"$(lot LIC-C)\",\"decision\":\"DECISION_GRANT\",\"valid_until_ms\":\"$valid_until\",\"reason\":\"reviewed\"}}"

say "Customs refuses the revoked licence and clears the granted one at the border"
refused gacc "{\"clear_export\":{\"licence_id\":\"$(lot LIC-A)\",\"lot_ids\":[\"$(lot MAG-A)\"],\"customs_declaration\":\"EXP-A\"}}" LICENCE_REVOKED
tx gacc "{\"clear_export\":{\"licence_id\":\"$(lot LIC-C)\",\"lot_ids\":[\"$(lot MAG-C)\"],\"customs_declaration\":\"EXP-C\"}}"

say "MIIT records a smuggling violation: 1,000,000 yuan of illegal revenue, fined 5x, one lot seized"
tx miit "{\"record_violation\":{\"violation_id\":\"$(lot VIO)\",\"org_id\":\"sino-export\",\"kind\":\"VIOLATION_KIND_SMUGGLING\",
  \"illegal_revenue_fen\":\"100000000\",\"multiplier\":5,\"fine_fen\":\"500000000\",\"seize_lot_ids\":[\"$(lot MAG-B)\"],
  \"description\":\"attempted shipment without a licence\"}}"

say "The exported magnet $(lot MAG-C), traced back to its mines (Graphviz DOT)"
dot="$(query TraceLot "{\"lot_id\":\"$(lot MAG-C)\",\"direction\":\"TRACE_DIRECTION_UPSTREAM\",\"page_size\":1000,\"include_dot\":true}")"
echo "$dot"
echo "$dot" | grep -q "bayan-obo" || fail "the trace does not reach Bayan Obo"
echo "$dot" | grep -q "longnan" || fail "the trace does not reach Longnan"
if command -v dot > /dev/null; then
  echo "$dot" | dot -Tsvg > "$run_dir/trace-$(lot MAG-C).svg" && echo "   (drawn in $run_dir/trace-$(lot MAG-C).svg)"
fi

say "Exports by country and by industry"
query ExportStats '{"group_by":"EXPORT_GROUP_BY_COUNTRY","page_size":50}' | jq -c '.rows[]?'
query ExportStats '{"group_by":"EXPORT_GROUP_BY_INDUSTRY","page_size":50}' | jq -c '.rows[]?'
echo
echo "The story is on the chain of every node."
