// The tinykv CLI's help and usage errors, in the manner of etcdctl (whose
// commands are cobra's):
//
//   * `tinykv foo` -> `Error: unknown command "foo" for "tinykv"`, and
//     `tinykv member foo` -> `... for "tinykv member"` (UnknownCommand);
//   * `tinykv get --help` prints get's usage and options, then the global
//     flags under "Global options" (HelpFormatter), as etcdctl's
//     "GLOBAL OPTIONS" section;
//   * CommandPath names the command a parse selected ("tinykv member list"),
//     for messages.
//
// Pure functions of a CLI11 App tree; no I/O.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tinykv::cli {

// A CLI11 formatter whose help of a subcommand ends with the root app's
// options (the global flags, which every subcommand takes). Install it on
// the root app before adding subcommands: they inherit it.
std::shared_ptr<CLI::Formatter> MakeHelpFormatter();

// When `args` (argv without the program name) names a command that does not
// exist where one is expected -- the first word that is neither a flag nor
// a flag's value, at the root or below a command that has subcommands --
// the error line for it, without "Error: " and the newline; else nullopt.
// Flags are skipped by the options `app` defines (a value-taking option's
// next word is its value, unless written --flag=value).
std::optional<std::string> UnknownCommand(const CLI::App& app,
                                          const std::vector<std::string>& args);

// The command words `args` selects, in order ({"member", "list"}), read
// as UnknownCommand reads them (up to a "--"); empty for none.
std::vector<std::string> CommandWords(const CLI::App& app, const std::vector<std::string>& args);

// Whether the word after `o` is its value (an option, not a flag).
bool TakesValue(const CLI::Option& o);

// The name of the deepest command the last parse of `app` selected,
// prefixed by its parents': "tinykv", "tinykv get", "tinykv member list".
std::string CommandPath(const CLI::App& app);

}  // namespace tinykv::cli
