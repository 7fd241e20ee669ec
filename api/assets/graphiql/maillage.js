// Maillage's GraphiQL page: GraphiQL and React come from the same server (no CDN), and it opens
// on tabs of real example queries. The endpoint is the page's own address, so the page also
// works behind a reverse proxy that serves Maillage under a path prefix.
(function () {
  'use strict';

  const welcome = `# Welcome to Maillage: who does what among France's public institutions.
#
# Run a query with the ▶ button or Ctrl-Enter. "Docs" (the book icon, left) lists every
# type and field; Ctrl-Space completes what you type. The other tabs hold more examples.
#
# Reading needs no token. To act for your organisation, paste your token in the Headers
# tab below as {"Authorization": "Bearer <your token>"}; it stays in this browser only.
query Rennes {
  organisation(inseeCode: "35238") {
    id
    name
    kind
    siren
    population
    epci { name siren kind }
    departement { name inseeCode }
    region { name inseeCode }
  }
}
`;

  const waste = `# Who collects household waste in Vitré (INSEE 35360)? Each answer names the
# organisation, its role, the layer it comes from and the legal source.
query WasteInVitre {
  responsibilities(inseeCode: "35360", competence: "C2080") {
    role
    layer
    organisation { name kind siren }
    competence { code label }
    source
    validFrom
  }
}
`;

  const feed = `# The change feed: every change to the registry, in order. Pass \`endCursor\` as
# \`after\` to read on; State services poll it (or subscribe) to keep their copies current.
query ChangeFeed {
  changes(first: 10) {
    events {
      cursor
      at
      entityType
      operation
      organisation { name }
    }
    endCursor
    hasNextPage
  }
}
`;

  const endpoint = new URL(window.location.pathname, window.location.origin);
  const socket = new URL(endpoint);
  socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  const fetcher = GraphiQL.createFetcher({
    url: endpoint.toString(),
    subscriptionUrl: socket.toString(),
  });

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultTabs: [{ query: welcome }, { query: waste }, { query: feed }],
      defaultHeaders: '{}',
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
})();
