// Realistic events for benchmarks: an Emacs file save with VC details, about
// 500 bytes as stored.
const actors = ['alice', 'bob', 'carol', 'dave'];

/** The i-th benchmark event. */
export function benchEvent(i) {
  const who = actors[i % actors.length];
  return {
    id: `bench-${i}`,
    time: new Date(Date.UTC(2026, 10, 27, 10, 0, 0) + i).toISOString(),
    source: 'emacs',
    action: i % 10 === 0 ? 'package.install' : 'file.save',
    actor: { id: `00u${who}`, email: `${who}@example.com`, name: who[0].toUpperCase() + who.slice(1) },
    target: { type: 'file', id: `/home/${who}/src/project/module-${i % 97}.el`, name: `module-${i % 97}.el` },
    outcome: 'success',
    host: `${who}-laptop`,
    device: { id: `dev-${who}`, seq: i + 1 },
    details: { sha256: (i * 2654435761 >>> 0).toString(16).padStart(64, '0'), size: 1000 + (i % 5000), mode: 'emacs-lisp-mode', vc: { backend: 'Git', branch: 'main' } },
  };
}
