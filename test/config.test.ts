import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, credentialSettings, helpText, optionNames, parseConfig } from "../src/config.ts";
import type { Config } from "../src/config.ts";

const DEFAULTS: Config = {
  kubeconfig: undefined,
  concurrency: 8,
  qps: 500,
  burst: 1000,
  "request-timeout": 30,
  "resync-period": 600,
  "http-bind-address": ":8080",
  "leader-elect": true,
  "leader-election-namespace": undefined,
  "leader-election-id": "secret-export-controller",
  "lease-duration": 15,
  "renew-deadline": 10,
  "retry-period": 2,
  "shutdown-timeout": 20,
  "log-level": "info",
  "credential-provider-config": undefined,
  "credential-provider-bin-dir": undefined,
  "gcp-token-url": "https://oauth2.googleapis.com/token",
  "acr-registry-suffixes": ".azurecr.io,.azurecr.cn,.azurecr.us",
};

/** Asserts that parsing fails with a ConfigError whose message contains every one of `parts`. */
function assertConfigError(argv: string[], env: NodeJS.ProcessEnv, parts: string[]) {
  assert.throws(
    () => parseConfig(argv, env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `${argv.join(" ")}: ${String(err)}`);
      for (const part of parts)
        assert.ok(err.message.includes(part), `${JSON.stringify(part)} in ${err.message}`);
      return true;
    },
  );
}

describe("parseConfig", () => {
  test("without flags or environment variables every option has its default", () => {
    assert.deepEqual(parseConfig([], {}), DEFAULTS);
  });

  test("ignores environment variables that are not its own", () => {
    assert.deepEqual(parseConfig([], { CONCURRENCY: "9", SEC_UNKNOWN: "x", PATH: "/bin" }), DEFAULTS);
  });

  test("reads each option from its flag or its environment variable, and the flag wins", () => {
    const rows: [
      flag: string,
      env: string,
      fromFlag: string,
      fromEnv: string,
      expectedFlag: unknown,
      expectedEnv: unknown,
    ][] = [
      ["kubeconfig", "KUBECONFIG", "/flag/config", "/env/config", "/flag/config", "/env/config"],
      ["concurrency", "SEC_CONCURRENCY", "2", "8", 2, 8],
      ["qps", "SEC_QPS", "0", "12.5", 0, 12.5],
      ["burst", "SEC_BURST", "7", "300", 7, 300],
      ["request-timeout", "SEC_REQUEST_TIMEOUT", "5", "2.5", 5, 2.5],
      ["resync-period", "SEC_RESYNC_PERIOD", "60", "3600", 60, 3600],
      ["http-bind-address", "SEC_HTTP_BIND_ADDRESS", "127.0.0.1:0", ":9090", "127.0.0.1:0", ":9090"],
      ["leader-elect", "SEC_LEADER_ELECT", "false", "true", false, true],
      [
        "leader-election-namespace",
        "SEC_LEADER_ELECTION_NAMESPACE",
        "flag-ns",
        "env-ns",
        "flag-ns",
        "env-ns",
      ],
      ["leader-election-id", "SEC_LEADER_ELECTION_ID", "from-flag", "from-env", "from-flag", "from-env"],
      ["lease-duration", "SEC_LEASE_DURATION", "30", "60", 30, 60],
      ["renew-deadline", "SEC_RENEW_DEADLINE", "12", "11", 12, 11],
      ["retry-period", "SEC_RETRY_PERIOD", "0.5", "3", 0.5, 3],
      ["shutdown-timeout", "SEC_SHUTDOWN_TIMEOUT", "5", "50", 5, 50],
      ["log-level", "SEC_LOG_LEVEL", "debug", "warn", "debug", "warn"],
    ];
    for (const [flag, env, fromFlag, fromEnv, expectedFlag, expectedEnv] of rows) {
      const name = flag as keyof Config;
      assert.equal(parseConfig([], { [env]: fromEnv })[name], expectedEnv, `${env} alone`);
      assert.equal(parseConfig([`--${flag}`, fromFlag], {})[name], expectedFlag, `--${flag} alone`);
      assert.equal(parseConfig([`--${flag}=${fromFlag}`], {})[name], expectedFlag, `--${flag}=`);
      assert.equal(
        parseConfig([`--${flag}`, fromFlag], { [env]: fromEnv })[name],
        expectedFlag,
        `--${flag} wins`,
      );
    }
  });

  test("an empty or blank value means unset, so the default applies", () => {
    for (const blank of ["", " ", "\t"]) {
      assert.deepEqual(
        parseConfig([], { SEC_QPS: blank, SEC_CONCURRENCY: blank, SEC_LOG_LEVEL: blank }),
        DEFAULTS,
      );
      assert.equal(parseConfig(["--qps", blank], {}).qps, 500, JSON.stringify(blank));
    }
  });

  test("rejects a bad value with a ConfigError naming the flag and its environment variable", () => {
    const rows: [flag: string, env: string, value: string][] = [
      ["concurrency", "SEC_CONCURRENCY", "0"],
      ["concurrency", "SEC_CONCURRENCY", "257"],
      ["concurrency", "SEC_CONCURRENCY", "1.5"],
      ["qps", "SEC_QPS", "abc"],
      ["qps", "SEC_QPS", "-1"],
      ["qps", "SEC_QPS", "Infinity"],
      ["burst", "SEC_BURST", "0"],
      ["request-timeout", "SEC_REQUEST_TIMEOUT", "0.5"],
      ["request-timeout", "SEC_REQUEST_TIMEOUT", "never"],
      ["resync-period", "SEC_RESYNC_PERIOD", "5"],
      ["http-bind-address", "SEC_HTTP_BIND_ADDRESS", "8080"],
      ["http-bind-address", "SEC_HTTP_BIND_ADDRESS", "localhost:http"],
      ["leader-elect", "SEC_LEADER_ELECT", "yes"],
      ["leader-elect", "SEC_LEADER_ELECT", "True"],
      ["lease-duration", "SEC_LEASE_DURATION", "0"],
      ["retry-period", "SEC_RETRY_PERIOD", "0.01"],
      ["shutdown-timeout", "SEC_SHUTDOWN_TIMEOUT", "soon"],
      ["log-level", "SEC_LOG_LEVEL", "loud"],
    ];
    for (const [flag, env, value] of rows) {
      assertConfigError([`--${flag}=${value}`], {}, [`--${flag}`, env]);
      assertConfigError([], { [env]: value }, [`--${flag}`, env]);
    }
  });

  test("a valid flag does not hide a bad environment variable of another option", () => {
    assertConfigError(["--concurrency", "2"], { SEC_QPS: "abc" }, ["--qps", "SEC_QPS"]);
  });

  test("reports every bad value at once", () => {
    assertConfigError(["--concurrency", "0", "--qps", "abc"], { SEC_LOG_LEVEL: "loud" }, [
      "--concurrency (SEC_CONCURRENCY)",
      "--qps (SEC_QPS)",
      "--log-level (SEC_LOG_LEVEL)",
    ]);
  });

  test("rejects lease timings where a standby could take over from a leader that still writes", () => {
    const rows: [argv: string[], parts: string[]][] = [
      [
        ["--retry-period", "10"],
        ["--retry-period", "--renew-deadline"],
      ],
      [
        ["--renew-deadline", "15"],
        ["--renew-deadline", "--lease-duration"],
      ],
      [
        ["--lease-duration", "5"],
        ["--renew-deadline", "--lease-duration"],
      ],
    ];
    for (const [argv, parts] of rows) assertConfigError(argv, {}, parts);
    assert.equal(
      parseConfig(["--lease-duration", "5", "--renew-deadline", "4", "--retry-period", "1"], {})[
        "lease-duration"
      ],
      5,
    );
  });

  test("rejects an unknown flag, a positional argument and a flag without a value", () => {
    const rows: [argv: string[], code: string][] = [
      [["--nope", "1"], "ERR_PARSE_ARGS_UNKNOWN_OPTION"],
      [["--QPS", "1"], "ERR_PARSE_ARGS_UNKNOWN_OPTION"],
      [["extra"], "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"],
      [["--concurrency"], "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"],
    ];
    for (const [argv, code] of rows) assert.throws(() => parseConfig(argv, {}), { code }, argv.join(" "));
  });
});

describe("helpText", () => {
  const lines = helpText().split("\n");
  const lineOf = (flag: string) => lines.find((line) => line.trimStart().startsWith(`${flag} `));

  test("optionNames covers every option of the configuration", () => {
    assert.deepEqual(
      optionNames().map((o) => o.flag),
      Object.keys(DEFAULTS).map((name) => `--${name}`),
    );
  });

  test("lists every option with its environment variable and its default, if it has one", () => {
    for (const { flag, env } of optionNames()) {
      const line = lineOf(flag);
      assert.ok(line !== undefined, `${flag} is listed`);
      assert.ok(line.includes(`$${env}`), `${flag} names $${env}: ${line}`);
      const fallback = DEFAULTS[flag.slice(2) as keyof Config];
      if (fallback === undefined) assert.doesNotMatch(line, /\(default/, flag);
      else assert.ok(line.endsWith(`(default ${String(fallback)})`), `${flag} shows its default: ${line}`);
    }
  });

  test("says that the flag wins over the environment variable", () => {
    assert.match(helpText(), /the flag wins/);
  });
});

test("credential settings: the CloudEndpoints from --gcp-token-url and --acr-registry-suffixes, plugins from both plugin flags", () => {
  const config = parseConfig(
    [
      "--acr-registry-suffixes",
      ".azurecr.io, .example",
      "--credential-provider-config",
      "/c.yaml",
      "--credential-provider-bin-dir",
      "/bin",
    ],
    {},
  );
  assert.deepEqual(credentialSettings(config, {}), {
    endpoints: {
      gcpTokenUrl: "https://oauth2.googleapis.com/token",
      acrRegistrySuffixes: [".azurecr.io", ".example"],
    },
    plugins: { configPath: "/c.yaml", binDir: "/bin" },
    env: {},
  });
  assertConfigError(["--credential-provider-config", "/c.yaml"], {}, [
    "--credential-provider-bin-dir go together",
  ]);
});
