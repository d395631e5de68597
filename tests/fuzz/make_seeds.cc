// Writes the binary seed corpora of the fuzz targets into DIR/<target>/: signed
// transactions, consensus messages and a block range with valid QCs and a commit
// proof, and key files, all from the world of fuzz_world.h, so that the short CI runs
// start from inputs that pass the signature checks and reach the code behind them.
// genesis_json and node_toml seeds are text files made by `reel testnet init` and
// `reeld init` (README.md). Rerun after a format change:
//   build-fuzz/bin/fuzz_make_seeds tests/fuzz/corpus
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "consensus/core.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "node/ledger/ledger.h"
#include "node/replica/block_sync.h"
#include "node/replica/codec.h"
#include "node/replica/commit_proof.h"
#include "tests/fuzz/fuzz_world.h"

namespace reel::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) Die("cannot write " + (dir / name).string());
}

// Transactions of every group, each signed by an organisation of the world.
std::vector<v1::Transaction> Transactions() {
  std::vector<v1::TxBody> bodies = FirstBlockBodies();
  uint64_t nonce = 100;
  v1::TxBody accept = Body("smelter", ++nonce);
  accept.mutable_transfer_accept()->set_offer_id("OFFER-1");
  bodies.push_back(accept);
  v1::TxBody decide = Body("mofcom", ++nonce);
  decide.mutable_decide_export_license()->set_licence_id("LIC-1");
  decide.mutable_decide_export_license()->set_decision(v1::DECISION_GRANT);
  decide.mutable_decide_export_license()->set_valid_until_ms(GenesisTimeMs() + 86'400'000);
  decide.mutable_decide_export_license()->set_reason("reviewed");
  bodies.push_back(decide);
  v1::TxBody split = Body("mineco", ++nonce);
  split.mutable_split()->set_lot_id("ORE-1");
  for (const char* part : {"ORE-1A", "ORE-1B"}) {
    v1::SplitPart* p = split.mutable_split()->add_parts();
    p->set_lot_id(part);
    p->set_mass_g(250'000'000);
  }
  bodies.push_back(split);
  v1::TxBody site = Body("miit", ++nonce);
  site.mutable_register_site()->set_site_id("mine-b");
  site.mutable_register_site()->set_org_id("mineco");
  site.mutable_register_site()->set_name("Mine B");
  site.mutable_register_site()->set_kind(v1::SITE_KIND_MINE);
  site.mutable_register_site()->set_deposit_type(v1::DEPOSIT_TYPE_ION_ADSORPTION);
  site.mutable_register_site()->set_province("Jiangxi");
  bodies.push_back(site);
  v1::TxBody violation = Body("miit", ++nonce);
  violation.mutable_record_violation()->set_violation_id("V-1");
  violation.mutable_record_violation()->set_org_id("mineco");
  violation.mutable_record_violation()->set_kind(v1::VIOLATION_KIND_SMUGGLING);
  violation.mutable_record_violation()->set_illegal_revenue_fen(1'000'000);
  violation.mutable_record_violation()->set_multiplier(5);
  violation.mutable_record_violation()->set_fine_fen(5'000'000);
  violation.mutable_record_violation()->add_seize_lot_ids("ORE-1");
  bodies.push_back(violation);

  std::vector<v1::Transaction> txs;
  for (const v1::TxBody& body : bodies)
    txs.push_back(SignTx(body.SerializeAsString(), body.org_id()));
  return txs;
}

// A seed that does not pass the checks it is meant to get past is no seed.
void Expect(const Status& status, const std::string& what) {
  if (!status.ok()) Die(what + ": " + status.ToString());
}

// Every transaction after block 1's own (which Check refuses as replays) passes Check
// and applies in block 2.
void ExpectApplies(const std::vector<v1::Transaction>& txs, size_t first) {
  const LedgerWorld world;
  for (size_t i = first; i < txs.size(); ++i) {
    Result<ledger::VerifiedTx> tx = ledger::Verify(txs[i], kChain);
    Expect(tx.status(), "tx seed " + std::to_string(i));
    Expect(ledger::Check(*tx, *world.store, world.height + 1), "tx seed " + std::to_string(i));
    Result<ledger::BlockExecution> block =
        ledger::ExecuteBlock(*world.store, {kChain, world.height + 1, world.time_ms + 1000}, {*tx});
    Expect(block.status(), "tx seed " + std::to_string(i));
    if (block->results[0].code() != v1::OK) {
      Die("tx seed " + std::to_string(i) + ": " + v1::ErrorCode_Name(block->results[0].code()) +
          ": " + block->results[0].message());
    }
  }
}

consensus::QuorumCert Qc(const consensus::Block& block) {
  consensus::QuorumCert qc;
  qc.block_id = block.id;
  qc.round = block.header.round;
  qc.height = block.header.height;
  for (uint32_t i = 0; i < 3; ++i) {  // a quorum of four
    qc.signers.push_back({i, ValidatorKey(i).SignDigest(
                                 consensus::VoteDigest(kChain, 0, block.id, block.header.round))});
  }
  return qc;
}

consensus::Block Child(const consensus::Block& parent, const consensus::QuorumCert& parent_qc,
                       uint64_t round, const std::vector<v1::Transaction>& txs) {
  consensus::Block b;
  b.header.round = round;
  b.header.height = parent.header.height + 1;
  b.header.parent_id = parent.id;
  b.header.qc_block_id = parent.id;
  b.header.qc_round = parent_qc.round;
  b.header.proposer_index = static_cast<uint32_t>(round % kValidators);
  b.header.timestamp_ms = GenesisTimeMs() + round * 1000;
  std::vector<crypto::Hash32> ids;
  for (const v1::Transaction& tx : txs) {
    b.payload.push_back(tx.SerializeAsString());
    ids.push_back(ledger::EnvelopeDigestOf(tx, kChain));
  }
  b.header.tx_root = crypto::MerkleRoot(ids);
  b.header.tx_count = static_cast<uint32_t>(txs.size());
  b.qc = parent_qc;
  b.Seal(kChain);
  return b;
}

std::string ProposerSignature(const consensus::Block& block) {
  return std::string(
      crypto::AsBytes(ValidatorKey(block.header.proposer_index).SignDigest(block.id)));
}

// Blocks 1..4 above genesis, each with the QC on it; block 2 holds three transactions.
struct Chain {
  std::vector<consensus::Block> blocks;    // blocks[h] is at height h (and round h)
  std::vector<consensus::QuorumCert> qcs;  // qcs[h] certifies blocks[h]
};

Chain MakeChain(const std::vector<v1::Transaction>& txs) {
  const consensus::Block genesis = consensus::MakeGenesisBlock(kChain, 0);
  Chain chain{{genesis}, {consensus::MakeGenesisQc(genesis)}};
  for (uint64_t round = 1; round <= 4; ++round) {
    std::vector<v1::Transaction> payload;
    if (round == 2) payload.assign(txs.begin(), txs.begin() + 3);
    chain.blocks.push_back(Child(chain.blocks.back(), chain.qcs.back(), round, payload));
    chain.qcs.push_back(Qc(chain.blocks.back()));
  }
  return chain;
}

// Blocks 1..3 with the QC on 3 and the proof that 4 (round 4 = 3 + 1) commits 3; and
// block 1 alone, proved by 2.
void WriteRanges(const fs::path& corpus, const Chain& chain) {
  for (int last : {3, 1}) {
    v1::GetBlocksResponse response;
    for (int h = 1; h <= last; ++h) {
      *response.add_blocks() =
          replica::ToProto(chain.blocks[h], ProposerSignature(chain.blocks[h]));
    }
    *response.mutable_last_qc() = replica::ToProto(chain.qcs[last]);
    consensus::Commit commit;
    commit.descendants = {chain.blocks[last + 1].header};
    commit.block_qc = chain.qcs[last];
    commit.child_qc = chain.qcs[last + 1];
    *response.mutable_commit_proof() = replica::CommitProofOf(commit);
    const replica::ChainPoint genesis{0, chain.blocks[0].id};
    Expect(replica::VerifyRange(Validators(), genesis, response).status(), "block range seed");
    Write(corpus / "block_range", "range_1_" + std::to_string(last), response.SerializeAsString());
  }
}

consensus::Proposal Propose(consensus::Block block, std::optional<consensus::TimeoutCert> tc) {
  consensus::Proposal proposal;
  proposal.signature = ValidatorKey(block.header.proposer_index).SignDigest(block.id);
  proposal.block = std::move(block);
  proposal.tc = std::move(tc);
  Expect(consensus::VerifyProposalSignature(proposal, Validators()), "proposal seed");
  return proposal;
}

// A proposal of block 2; a vote for it; validators 0..2 timing out in round 4 (a TC);
// validator 2 timing out in round 5 with that TC; the proposal of round 5 entered by it.
void WriteMessages(const fs::path& corpus, const Chain& chain, const v1::Transaction& tx) {
  consensus::Vote vote;
  vote.round = 2;
  vote.height = 2;
  vote.block_id = chain.blocks[2].id;
  vote.signer = 1;
  vote.signature = ValidatorKey(1).SignDigest(consensus::VoteDigest(kChain, 0, vote.block_id, 2));
  Expect(consensus::VerifyVote(vote, Validators()), "vote seed");
  consensus::TimeoutCert tc;
  tc.round = 4;
  for (uint32_t i = 0; i < 3; ++i) {
    const crypto::Hash32 digest = consensus::TimeoutDigest(kChain, 0, 4, 3);
    tc.signers.push_back({i, 3, ValidatorKey(i).SignDigest(digest)});
  }
  Expect(consensus::VerifyTc(tc, Validators()), "TC seed");
  consensus::Timeout timeout;
  timeout.round = 5;
  timeout.high_qc = chain.qcs[3];
  timeout.signer = 2;
  timeout.signature = ValidatorKey(2).SignDigest(consensus::TimeoutDigest(kChain, 0, 5, 3));
  timeout.high_tc = tc;
  Expect(consensus::VerifyTimeoutSignature(timeout, Validators()), "timeout seed");

  const fs::path dir = corpus / "consensus_message";
  auto write = [&](const std::string& name, uint32_t sender, const consensus::Message& m) {
    const v1::ConsensusMessage message = replica::ToProto(sender, 0, m);
    Expect(replica::FromProto(message, kChain).status(), "consensus message seed " + name);
    Write(dir, name, message.SerializeAsString());
  };
  write("proposal", 2, Propose(chain.blocks[2], std::nullopt));
  write("proposal_with_tc", 1, Propose(Child(chain.blocks[3], chain.qcs[3], 5, {tx}), tc));
  write("vote", 1, vote);
  write("timeout", 2, timeout);
}

void WriteKeyFiles(const fs::path& corpus) {
  const fs::path dir = corpus / "keyfile";
  const fs::path scratch = fs::temp_directory_path() / "reel-fuzz-seeds";
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  auto write = [&](const std::string& name, std::optional<std::string_view> passphrase) {
    const fs::path path = scratch / name;
    Status s = crypto::WriteKeyFile(path.string(), OrgKey("miit"), passphrase,
                                    crypto::KdfLimits::MinimumForTests());
    if (!s.ok()) Die(s.ToString());
    std::ifstream in(path, std::ios::binary);
    Write(dir, name, std::string(std::istreambuf_iterator<char>(in), {}));
  };
  write("plain.json", std::nullopt);
  write("encrypted.json", "fuzz");  // keyfile_fuzz.cc's passphrase
  fs::remove_all(scratch);
}

}  // namespace
}  // namespace reel::fuzz

int main(int argc, char** argv) {
  using namespace reel::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[1];
  const std::vector<v1::Transaction> txs = Transactions();
  for (size_t i = 0; i < txs.size(); ++i) {
    v1::TxBody body;
    body.ParseFromString(txs[i].body());
    Write(corpus / "tx",
          std::to_string(i) + "_" +
              v1::TxBody::descriptor()->FindFieldByNumber(body.action_case())->name(),
          txs[i].SerializeAsString());
  }
  ExpectApplies(txs, FirstBlockBodies().size());
  const Chain chain = MakeChain(txs);
  WriteRanges(corpus, chain);
  WriteMessages(corpus, chain, txs[0]);
  WriteKeyFiles(corpus);
  return 0;
}
