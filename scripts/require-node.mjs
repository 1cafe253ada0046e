// Runs before the TypeScript sources, on whatever `node` the shell found, so it is plain JavaScript
// that any Node.js can read: an old runtime gets one line saying what to do, not a stack trace.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `This project runs on Node.js 24, which \`npx --yes pnpm@10.34.9 install\` puts in node_modules/.bin, but found Node.js ${process.version}: ` +
      'run the install again and read why it could not add Node.js 24, or install Node.js 24 yourself.\n',
  );
  process.exit(1);
}
