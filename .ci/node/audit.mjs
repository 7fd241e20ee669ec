// GraphQL over HTTP conformance: graphql-http's server audit against a running Maillage.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql — exits non-zero on any error.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
let errors = 0;
let warnings = 0;
for (const r of results) {
  if (r.status === 'error') errors++;
  if (r.status === 'warn') warnings++;
  const why = r.status === 'ok' ? '' : ` (${r.reason})`;
  console.log(`${r.status.padEnd(6)}${r.id} ${r.name}${why}`);
}
console.log(`graphql-http audit: ${results.length} audits, ${errors} errors, ${warnings} warnings`);
process.exit(errors === 0 ? 0 : 1);
