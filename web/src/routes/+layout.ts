// A client-only SPA: the server serves index.html for every path and the API on the same origin.
export const ssr = false;
export const prerender = false;
