// Apollo Federation v2: composes Maillage's subgraph schema with a second subgraph that
// extends Organisation by each of its keys. Usage: node compose.mjs maillage-subgraph.graphql
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const maillage = readFileSync(process.argv[2], 'utf8');
// A partner subgraph (say, a budget service) that knows organisations by SIREN or INSEE code.
const partner = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Organisation @key(fields: "siren") @key(fields: "inseeCode") @key(fields: "id") {
    id: ID!
    siren: String
    inseeCode: String
    budgetPerInhabitant: Float
  }
  type Query { largestBudgets(first: Int): [Organisation!]! }
`;
const result = composeServices([
  { name: 'maillage', typeDefs: parse(maillage), url: 'http://maillage.invalid/graphql' },
  { name: 'budgets', typeDefs: parse(partner), url: 'http://budgets.invalid/graphql' },
]);
if (result.errors?.length) {
  for (const e of result.errors) console.error(`composition error: ${e.message}`);
  process.exit(1);
}
const supergraph = result.supergraphSdl;
for (const needle of ['budgetPerInhabitant: Float', 'memberOf', 'join__type(graph: MAILLAGE, key: "siren")']) {
  if (!supergraph.includes(needle)) {
    console.error(`supergraph lacks ${needle}`);
    process.exit(1);
  }
}
console.log(`federation: composed (${supergraph.length} bytes of supergraph, ${result.hints?.length ?? 0} hints)`);
