import { SvelteMap } from 'svelte/reactivity';

/** Users ticked in the user list, kept while moving between pages. */
export const selection = new SvelteMap<string, { id: string; name: string | null }>();
