// Options every subcommand shares, and the exit codes (docs/cli.md).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/error.h"

namespace vnf::cli {

// The whole table, with the codes of each error kind, is common/error.h exitCodeOf.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and found or caused a failure
inline constexpr int kExitUsage = 2;   // bad arguments or bad input: nothing was changed
inline constexpr int kExitEnv = 3;     // the host or libvirt could not be read or reached

struct GlobalOptions {
  std::string host_root = "/";
  std::string uri;  // "" -> LIBVIRT_DEFAULT_URI or qemu:///system
};

// Prints "vnfctl: error: <message>\n  fix: <fix>" to stderr.
void printError(const Error& error);
// Exit code for an error (common/error.h exitCodeOf: one table for every command).
int exitCodeFor(const Error& error);
// printError, then the exit code for it: `return reportError(e);` in a command.
int reportError(const Error& error);
// The error as the "error" member of a --json document: kind, exit_code, message, fix.
nlohmann::ordered_json errorJson(const Error& error);

// Writes a command's output document to stdout (common/file_io.h, writeStdout). Returns
// `ok_code`, or, when stdout cannot take it (a full disk, EIO), prints the error and returns
// kExitFailed. A reader that went away (EPIPE) ends the output quietly with `ok_code`.
int printOutput(std::string_view text, int ok_code = kExitOk);

// Flushes what a command printed with printf (main.cc, after the command ran): a command that
// succeeded but whose output could not be written (ENOSPC, EIO) fails with kExitFailed and a
// message; EPIPE stays quiet; a command that failed keeps its own exit code.
int finishOutput(int code);

}  // namespace vnf::cli
