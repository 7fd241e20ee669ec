// Standard introspection, as tools send it: graphql-js's getIntrospectionQuery with every
// option on must be answered and build a client schema; a deeper schema walk must be refused
// with LIMIT_EXCEEDED. Usage: node introspect.mjs http://127.0.0.1:PORT/graphql
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';

const url = process.argv[2];
const post = async (query) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  return response.json();
};

const query = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
const result = await post(query);
if (result.errors) {
  console.error('introspection refused:', JSON.stringify(result.errors));
  process.exit(1);
}
const schema = buildClientSchema(result.data);
const types = Object.keys(schema.getTypeMap()).length;
console.log(`graphql-js introspection: ${types} types, SDL of ${printSchema(schema).length} characters`);

let deep = 'kind';
for (let i = 0; i < 30; i++) deep = `ofType { ${deep} }`;
const abusive = await post(`{ __schema { types { fields { type { ${deep} } } } } }`);
const code = abusive.errors?.[0]?.extensions?.code;
if (code !== 'LIMIT_EXCEEDED') {
  console.error('a 34-deep schema walk was not refused:', JSON.stringify(abusive).slice(0, 300));
  process.exit(1);
}
console.log('a deeper schema walk is refused: LIMIT_EXCEEDED');
