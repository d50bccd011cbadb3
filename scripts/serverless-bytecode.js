'use strict';
// A local Serverless plugin: authz's own modules go into the package compiled, so that
// a cold start reads bytecode instead of compiling every module again (the Lambda file
// system is read-only, so nothing compiled there is kept for the next cold start).
//
// Bytecode belongs to one Python minor version, so only the runtime's own Python may
// build it: AUTHZ_BYTECODE_PYTHON, else python3.12 (for runtime python3.12) on PATH,
// else the newest one pyenv installed. Without one the package ships source only, with
// a warning, and any bytecode an earlier build left is removed first, so none can go
// out stale. It runs before a whole package and before `deploy function` alike. The pyc files are "checked-hash": the
// zip keeps no exact modification times, which timestamp pyc files are checked against,
// and a hash ties each one to its source (scripts/check_package.py verifies them).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const CODE = 'authz';
// Not packaged (serverless.yml's patterns), so not compiled either.
const SKIPPED = /^authz[/\\](dev|cli)[/\\]/;

class AuthzBytecode {
  constructor(serverless, _options, { log }) {
    this.serverless = serverless;
    this.log = log;
    const compile = () => this.compile();
    this.hooks = {
      'before:package:createDeploymentArtifacts': compile,
      'before:deploy:function:packageFunction': compile,
    };
  }

  compile() {
    const runtime = String(this.serverless.service.provider.runtime || '');
    const version = runtime.replace(/^python/, '');
    const tag = `cpython-${version.replace('.', '')}`;
    const root = path.join(this.serverless.serviceDir, CODE);
    removeBytecode(root, tag);
    const tried = candidates(version);
    const python = tried.find((candidate) => isPython(candidate, version));
    if (python === undefined) {
      this.log.warning(
        `authz bytecode: no Python ${version} (tried ${tried.join(', ')}); the package ` +
          `ships source only, so every cold start compiles authz. Set ` +
          `AUTHZ_BYTECODE_PYTHON to a Python ${version} interpreter.`,
      );
      return;
    }
    const args = ['-m', 'compileall', '-q', '-f', '--invalidation-mode', 'checked-hash'];
    const run = spawnSync(python, [...args, '-x', SKIPPED.source, CODE], {
      cwd: this.serverless.serviceDir,
      stdio: 'inherit',
    });
    if (run.status !== 0) {
      throw new this.serverless.classes.Error(`authz bytecode: ${python} -m compileall failed`);
    }
    this.log.notice(`authz bytecode: compiled by ${python} (${tag}, checked-hash)`);
  }
}

function candidates(version) {
  if (process.env.AUTHZ_BYTECODE_PYTHON) return [process.env.AUTHZ_BYTECODE_PYTHON];
  const found = [`python${version}`];
  const root = process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv');
  const versions = path.join(root, 'versions');
  if (fs.existsSync(versions)) {
    const installed = fs
      .readdirSync(versions)
      .filter((name) => name === version || name.startsWith(`${version}.`))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .reverse();
    found.push(...installed.map((name) => path.join(versions, name, 'bin', `python${version}`)));
  }
  return found;
}

function isPython(command, version) {
  const probe = spawnSync(command, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
    encoding: 'utf8',
  });
  return probe.status === 0 && probe.stdout.trim() === version;
}

function removeBytecode(folder, tag) {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      removeBytecode(full, tag);
    } else if (entry.name.endsWith(`.${tag}.pyc`) && path.basename(folder) === '__pycache__') {
      fs.unlinkSync(full);
    }
  }
}

module.exports = AuthzBytecode;
