// `tinykv completion bash|zsh`: shell completion scripts, generated from the
// CLI11 command tree so they never fall behind it (cobra's `completion`
// command, as etcdctl has it).
//
// Both complete the command words (`tinykv me<TAB>` -> member, `tinykv member
// <TAB>` -> list add promote remove), the flags of the command so far plus
// the global flags (`tinykv get --p<TAB>` -> --prefix, --print-value-only),
// and flag values: the choices of a flag that has a fixed set (-w, --bytes,
// --consistency), file names for any other value. Words after a
// value-taking flag are its value, not commands.
//
//   bash: source <(tinykv completion bash)   (or save it in
//         /etc/bash_completion.d/tinykv); defines _tinykv and runs
//         `complete -o default -F _tinykv tinykv`.
//   zsh:  source <(tinykv completion zsh) after compinit, or save it as
//         _tinykv in a directory of $fpath.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace tinykv::cli {

// `app`: the root of the tree (every command added).
std::string BashCompletion(const CLI::App& app);
std::string ZshCompletion(const CLI::App& app);

}  // namespace tinykv::cli
