// Verifies a keyfob token the way the seed's Node.js example tells relying parties to:
// jsonwebtoken's jwt.verify(token, secretKey, { algorithms: ['HS256'] }).
// Reads {"token": ..., "secretKey": ...} on stdin; writes one JSON object on stdout.
const jwt = require('jsonwebtoken');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', () => {
  const { token, secretKey } = JSON.parse(input);
  let result;
  try {
    const payload = jwt.verify(token, secretKey, { algorithms: ['HS256'] });
    result = { ok: true, payload };
  } catch (err) {
    result = { ok: false, error: err.name, message: err.message };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
});
