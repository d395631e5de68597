// reel ca new|sign: the chain's certificate authority, kept by one member (ideally on a
// machine that holds nothing else). Its certificate goes into genesis (tls_ca_pem) and is
// the peer port's permission: a node whose certificate it did not sign learns nothing
// there. `sign` turns a member's certificate request (`reel node request`) into the
// node's TLS certificate; the node's private key never reaches the CA.
//
//   DIR/ca.key  the CA's private key, 0600, in a folder made 0700
//   DIR/ca.crt  its certificate, 0644: what `reel genesis new --ca-cert` takes
#include <filesystem>

#include "node/net/tls.h"
#include "tools/reel/chain_setup.h"
#include "tools/reel/cli.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

struct NewOptions {
  std::string out;
  std::string name = "reel-ca";
  uint32_t days = 3650;
};

Status RunNew(const Globals& globals, const NewOptions& o) {
  if (o.days < 1) return Status::InvalidArgument("--days must be at least 1");
  Result<net::CertAndKey> ca = MakeCaFiles(o.out, o.name, o.days);
  if (!ca.ok()) return ca.status();
  PrintRecord(globals, {{"name", o.name},
                        {"certificate", o.out + "/ca.crt"},
                        {"key", o.out + "/ca.key"},
                        {"valid_days", std::to_string(o.days)},
                        {"next", "keep " + o.out + "/ca.key offline; " + o.out +
                                     "/ca.crt goes to `reel genesis new --ca-cert`"}});
  return Status::Ok();
}

struct SignOptions {
  std::string ca;
  std::string csr;
  std::string out;
  std::string dns;  // "": any name the request asks for
  uint32_t days = 365;
};

Status RunSign(const Globals& globals, const SignOptions& o) {
  if (o.days < 1) return Status::InvalidArgument("--days must be at least 1");
  std::error_code ec;
  if (fs::exists(o.out, ec)) {
    return Status::AlreadyExists(o.out + " exists: remove it to sign again, or choose --out");
  }
  Result<net::CertAndKey> ca = net::ReadCertAndKey(o.ca, "ca");
  if (!ca.ok()) return ca.status();
  Result<std::string> request = net::ReadCertPemFile(o.csr);
  if (!request.ok()) return request.status();
  Result<std::string> name = net::CertRequestName(*request);
  if (!name.ok()) return Status(name.status().code(), o.csr + ": " + name.status().message());
  if (!o.dns.empty() && *name != o.dns) {
    return Status::InvalidArgument(o.csr + ": subject CN: the request is for \"" + *name +
                                   "\", not --dns \"" + o.dns + "\"");
  }
  Result<std::string> cert = net::SignCertRequest(*ca, *request, net::ValidForDays(o.days));
  if (!cert.ok()) return Status(cert.status().code(), o.csr + ": " + cert.status().message());
  REEL_RETURN_IF_ERROR(net::WriteCertPemFile(o.out, *cert));
  PrintRecord(globals,
              {{"name", *name},
               {"certificate", o.out},
               {"valid_days", std::to_string(o.days)},
               {"next", "send " + o.out +
                            " to the member (it becomes HOME/tls/node.crt) and, for a "
                            "validator, to whoever edits genesis (add-validator --cert)"}});
  return Status::Ok();
}

}  // namespace

void RegisterCa(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* ca = app.add_subcommand("ca", "The chain's certificate authority: make it, sign nodes");
  ca->require_subcommand(1);

  auto new_options = std::make_shared<NewOptions>();
  CLI::App* make =
      ca->add_subcommand("new", "Make the chain's CA: DIR/ca.key (0600) and DIR/ca.crt (0644)");
  make->add_option("--out", new_options->out, "Folder for the CA (made 0700)")->required();
  make->add_option("--name", new_options->name, "The CA certificate's subject CN")
      ->capture_default_str();
  make->add_option("--days", new_options->days, "Validity in days")->capture_default_str();
  make->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(make, selected, [&globals, new_options] { return RunNew(globals, *new_options); });

  auto sign_options = std::make_shared<SignOptions>();
  CLI::App* sign = ca->add_subcommand(
      "sign", "Sign a node's certificate request into its TLS certificate (server and client)");
  sign->add_option("--ca", sign_options->ca, "The CA folder (ca.crt, ca.key)")->required();
  sign->add_option("--csr", sign_options->csr, "The request (from reel node request)")->required();
  sign->add_option("--out", sign_options->out, "The certificate to write (0644)")->required();
  sign->add_option("--dns", sign_options->dns, "Refuse unless the request is for this DNS name");
  sign->add_option("--days", sign_options->days, "Validity in days")->capture_default_str();
  sign->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(sign, selected, [&globals, sign_options] { return RunSign(globals, *sign_options); });
}

}  // namespace reel::cli
