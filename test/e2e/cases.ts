/**
 * Each of Azure's 19 operations (and the two fan-outs) through the gateway: the status the caller gets, and the exact
 * request the upstream receives (method, raw escaped path, query, body).
 */
export interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  upstream: { method: string; rawPath: string; query?: Record<string, string[]>; body?: unknown }[];
}

export const API = { 'api-version': ['2022-06-01'] };
export const PAYLOAD = { target: 'newMessage', arguments: ['hi', { n: 1 }, [true, null]] };

// Hub "Chat" is lowercased upstream; names keep their case and every reserved character is escaped as .NET does.
export const CASES: Case[] = [
  {
    name: 'broadcast',
    method: 'POST',
    path: '/api/hubs/Chat/:send?excluded=c1&excluded=c%202',
    body: PAYLOAD,
    status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/:send', query: { ...API, excluded: ['c1', 'c 2'] }, body: PAYLOAD }],
  },
  {
    name: 'close all connections',
    method: 'POST',
    path: '/api/hubs/Chat/:closeConnections?excluded=c1&reason=bye%20now',
    status: 204,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/:closeConnections', query: { ...API, excluded: ['c1'], reason: ['bye now'] } }],
  },
  {
    name: 'send to group',
    method: 'POST',
    path: '/api/hubs/Chat/groups/G%201%2F%C3%A4/:send?application=MyApp',
    body: PAYLOAD,
    status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/groups/G%201%2F%C3%A4/:send', query: { application: ['myapp'], ...API }, body: PAYLOAD }],
  },
  {
    name: 'close group connections',
    method: 'POST',
    path: "/api/hubs/Chat/groups/g!'()*/:closeConnections?reason=x",
    status: 204,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/groups/g%21%27%28%29%2A/:closeConnections', query: { ...API, reason: ['x'] } }],
  },
  {
    name: 'check group (HEAD)',
    method: 'HEAD',
    path: '/api/hubs/Chat/groups/g1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/groups/g1', query: API }],
  },
  {
    name: 'check group (GET)',
    method: 'GET',
    path: '/api/hubs/Chat/groups/g1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/groups/g1', query: API }],
  },
  {
    name: 'add connection to group',
    method: 'PUT',
    path: '/api/hubs/Chat/groups/g1/connections/c%2B1',
    status: 200,
    upstream: [{ method: 'PUT', rawPath: '/api/hubs/chat/groups/g1/connections/c%2B1', query: API }],
  },
  {
    name: 'remove connection from group',
    method: 'DELETE',
    path: '/api/hubs/Chat/groups/g1/connections/c1',
    status: 200,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/groups/g1/connections/c1', query: API }],
  },
  {
    name: 'send to user',
    method: 'POST',
    path: '/api/hubs/Chat/users/Alice%40example.com/:send',
    body: PAYLOAD,
    status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/users/Alice%40example.com/:send', query: API, body: PAYLOAD }],
  },
  {
    name: 'close user connections',
    method: 'POST',
    path: '/api/hubs/Chat/users/u1/:closeConnections?excluded=c9',
    status: 204,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/users/u1/:closeConnections', query: { ...API, excluded: ['c9'] } }],
  },
  {
    name: 'check user (HEAD)',
    method: 'HEAD',
    path: '/api/hubs/Chat/users/u1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1', query: API }],
  },
  {
    name: 'check user (GET)',
    method: 'GET',
    path: '/api/hubs/Chat/users/u1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1', query: API }],
  },
  {
    name: 'check user in group (HEAD)',
    method: 'HEAD',
    path: '/api/hubs/Chat/users/u1/groups/g1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }],
  },
  {
    name: 'check user in group (GET)',
    method: 'GET',
    path: '/api/hubs/Chat/users/u1/groups/g1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }],
  },
  {
    name: 'add user to group with ttl',
    method: 'PUT',
    path: '/api/hubs/Chat/users/u1/groups/g1?ttl=3600',
    status: 200,
    upstream: [{ method: 'PUT', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: { ...API, ttl: ['3600'] } }],
  },
  {
    name: 'add user to group without ttl',
    method: 'PUT',
    path: '/api/hubs/Chat/users/u1/groups/g1',
    status: 200,
    upstream: [{ method: 'PUT', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }],
  },
  {
    name: 'remove user from group',
    method: 'DELETE',
    path: '/api/hubs/Chat/users/u1/groups/g1',
    status: 204,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }],
  },
  {
    name: 'remove user from all groups',
    method: 'DELETE',
    path: '/api/hubs/Chat/users/u1/groups',
    status: 204,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/users/u1/groups', query: API }],
  },
  {
    name: 'send to connection',
    method: 'POST',
    path: '/api/hubs/Chat/connections/c1/:send',
    body: { target: 't' },
    status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/connections/c1/:send', query: API, body: { target: 't', arguments: [] } }],
  },
  {
    name: 'close connection',
    method: 'DELETE',
    path: '/api/hubs/Chat/connections/c1?reason=r%26d',
    status: 200,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/connections/c1', query: { ...API, reason: ['r&d'] } }],
  },
  {
    name: 'check connection (HEAD)',
    method: 'HEAD',
    path: '/api/hubs/Chat/connections/c1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/connections/c1', query: API }],
  },
  {
    name: 'check connection (GET)',
    method: 'GET',
    path: '/api/hubs/Chat/connections/c1',
    status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/connections/c1', query: API }],
  },
  {
    name: 'remove connection from all groups',
    method: 'DELETE',
    path: '/api/hubs/Chat/connections/c1/groups',
    status: 200,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/connections/c1/groups', query: API }],
  },
  { name: 'upstream health (HEAD)', method: 'HEAD', path: '/api/health', status: 200, upstream: [{ method: 'HEAD', rawPath: '/api/health', query: API }] },
  { name: 'upstream health (GET)', method: 'GET', path: '/api/health', status: 200, upstream: [{ method: 'HEAD', rawPath: '/api/health', query: API }] },
];
