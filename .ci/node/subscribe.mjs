// graphql-ws client conformance: subscribes to the change feed of a running Maillage over
// graphql-transport-ws, makes a change, and waits for its event.
// Usage: node subscribe.mjs http://127.0.0.1:PORT/graphql TOKEN
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
const post = async (query, variables) => {
  const res = await fetch(url, {
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
);
const result = await received;
await client.dispose();
const change = result.data?.changes;
const ok = change?.entityType === 'ContactPoint' && change?.node?.id === added.addContactPoint.contactPoint.id;
console.log(`graphql-ws client: ${ok ? 'received' : 'unexpected'} ${JSON.stringify(result)}`);
process.exit(ok ? 0 : 1);
