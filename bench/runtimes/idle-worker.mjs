// workerd doing nothing: a Worker that answers at once, with no SDK and no I/O (the baseline
// beside the bundled worker.mjs). Served as it is, not bundled.
export default {
  fetch: () => new Response('0'),
};
