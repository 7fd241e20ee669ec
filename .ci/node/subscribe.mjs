// graphql-ws client conformance: subscribes to the change feed of a running Maillage over
// graphql-transport-ws, makes a change (through another server process on the same database
// when a second URL is given), and waits for its event.
// Usage: node subscribe.mjs http://127.0.0.1:PORT/graphql TOKEN [http://127.0.0.1:OTHER/graphql]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, writeUrl = url] = process.argv.slice(2);
const post = async (query, variables, to = url) => {
  const res = await fetch(to, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()).data;
};

const client = createClient({
  url: url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
const { feedCursor } = await post('{ feedCursor }');
const { organisation } = await post('{ organisation(siren: "213502388") { id } }');
const received = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no event within 30 s')), 30000);
  client.subscribe(
    {
      query: 'subscription($a: String) { changes(after: $a) { entityType operation node { id } } }',
      variables: { a: feedCursor },
    },
    {
      next: (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
      complete: () => {},
    },
  );
});
const added = await post(
  'mutation($i: AddContactPointInput!) { addContactPoint(input: $i) { contactPoint { id } } }',
  { i: { organisationId: organisation.id, kind: 'EMAIL', value: 'graphql-ws@rennes.fr' } },
  writeUrl,
);
const result = await received;
await client.dispose();
const change = result.data?.changes;
const ok = change?.entityType === 'ContactPoint' && change?.node?.id === added.addContactPoint.contactPoint.id;
const via = writeUrl === url ? 'the same server' : 'another server process';
console.log(`graphql-ws client: ${ok ? 'received' : 'unexpected'} a change made through ${via}: ${JSON.stringify(result)}`);
process.exit(ok ? 0 : 1);
