// Fuzzes what a peer answers to GetBlocks: parse reel.v1.GetBlocksResponse, then
// replica::VerifyRange from genesis against four validators, and
// replica::VerifyCommitProof on its commit proof for the range's last block as sent.
#include <cstddef>
#include <cstdint>

#include "node/replica/block_sync.h"
#include "node/replica/commit_proof.h"
#include "tests/fuzz/fuzz_world.h"
#include "tests/fuzz/protobuf_quiet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel;
  const consensus::VerifyContext& validators = fuzz::Validators();
  fuzz::v1::GetBlocksResponse response;
  if (!response.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)replica::VerifyRange(validators, replica::ChainPoint{0, validators.epoch_root_id},
                             response);
  if (response.blocks_size() > 0) {
    const auto& last = response.blocks(response.blocks_size() - 1).header();
    Result<crypto::Hash32> id = replica::HeaderId(last, fuzz::kChain);
    if (id.ok()) (void)replica::VerifyCommitProof(*id, response.commit_proof(), validators);
  }
  return 0;
}
