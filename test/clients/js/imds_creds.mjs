// Runs the JavaScript SDK's own IMDS credential provider against imds and
// prints the credentials it returns as JSON.
//
// Usage: node imds_creds.mjs [--v1-disabled]
//
// The endpoint is checked before the SDK is loaded (a dynamic import, since
// static imports would run first), so no lookup can leave loopback.
import { isIP } from "node:net";

const endpoint = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? "";
let host = "";
try {
  const u = new URL(endpoint);
  host = u.protocol === "http:" ? u.hostname.replace(/^\[(.*)\]$/, "$1") : "";
} catch {
  host = "";
}
const loopback =
  (isIP(host) === 4 && host.startsWith("127.")) || (isIP(host) === 6 && host === "::1");
if (!loopback) {
  console.error(`refusing to run: AWS_EC2_METADATA_SERVICE_ENDPOINT=${JSON.stringify(endpoint)} is not a loopback IP`);
  process.exit(2);
}

const { fromInstanceMetadata } = await import("@smithy/credential-provider-imds");

const v1Disabled = process.argv.includes("--v1-disabled");
const provider = fromInstanceMetadata({ timeout: 1000, maxRetries: 0, ec2MetadataV1Disabled: v1Disabled });
const creds = await provider();
process.stdout.write(
  JSON.stringify({
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    expiration: creds.expiration?.toISOString(),
  }),
);
