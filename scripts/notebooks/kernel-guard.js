// Preloaded into every kernel the runner starts (`node --require kernel-guard.js tslab kernel …`): the kernel dies
// with its runner. The runner holds the write end of the kernel's stdin pipe; when the runner ends in any way
// (SIGKILL included) the pipe closes, and a worker thread — not blocked by a cell's synchronous loop on the main
// thread — removes the kernel's private folder (connection file and sockets) and kills the kernel's process group.
// Plain JavaScript: it runs in the kernel's own Node.js, without tsx.
'use strict';
const dir = process.env.KIT_KERNEL_GUARD;
delete process.env.KIT_KERNEL_GUARD; // processes a cell starts are not guarded by this pipe
if (dir) {
  const { Worker } = require('worker_threads');
  const code = `
    const fs = require('fs');
    const net = require('net');
    const { dir, pid } = require('worker_threads').workerData;
    const gone = () => {
      try { fs.rmSync(dir, { recursive: true, force: true }); } catch {}
      try { process.kill(-pid, 'SIGKILL'); } catch {}
      process.kill(pid, 'SIGKILL');
    };
    try {
      const pipe = new net.Socket({ fd: 0, readable: true, writable: false });
      pipe.on('data', () => {});
      pipe.on('end', gone);
      pipe.on('error', gone);
    } catch {}`;
  try {
    new Worker(code, { eval: true, workerData: { dir, pid: process.pid } }).unref();
  } catch (e) {
    process.stderr.write(`kit kernel guard not started: ${e && e.message}\n`);
  }
}
