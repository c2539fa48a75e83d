// Shell completion scripts from the command tree (completion.h).
#include "cli/completion.h"

#include <algorithm>
#include <map>
#include <vector>

#include "cli/usage.h"

namespace tinykv::cli {
namespace {

std::string Join(const std::vector<std::string>& words, const std::string& sep) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

// An option's spellings: "-w", "--write-out".
std::vector<std::string> Spellings(const CLI::Option* o) {
  std::vector<std::string> out;
  for (const std::string& s : o->get_snames()) out.push_back("-" + s);
  for (const std::string& l : o->get_lnames()) out.push_back("--" + l);
  return out;
}

// The fixed choices of an option whose value is checked by CLI::IsMember:
// its type name reads "TEXT:{simple,json,table,fields}".
std::vector<std::string> Choices(const CLI::Option* o) {
  const std::string type = o->get_type_name();
  const size_t open = type.find('{');
  if (open == std::string::npos || type.back() != '}') return {};
  std::vector<std::string> out;
  std::string item;
  for (char c : type.substr(open + 1, type.size() - open - 2)) {
    if (c == ',') {
      out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  out.push_back(item);
  return out;
}

// What both scripts are made of.
struct Model {
  // Per command path ("" the root, "/get", "/member/list").
  struct Command {
    std::string path;
    std::vector<std::string> subcommands;
    std::vector<std::string> flags;  // its own, then the global flags
  };
  std::vector<Command> commands;
  std::vector<std::string> valued;  // flags whose next word is their value
  // A valued flag's spellings joined by '|' -> its choices (empty: files).
  std::map<std::string, std::vector<std::string>> values;
};

void Walk(const CLI::App* app, const std::string& path, const std::vector<std::string>& globals,
          Model& m) {
  Model::Command c{path, {}, {}};
  const std::vector<const CLI::App*> subs =
      app->get_subcommands([](const CLI::App*) { return true; });
  for (const CLI::App* sub : subs) c.subcommands.push_back(sub->get_name());
  std::vector<std::string>& flags = c.flags;
  for (const CLI::Option* o : app->get_options()) {
    if (!o->nonpositional()) continue;
    const std::vector<std::string> names = Spellings(o);
    for (const std::string& n : names) flags.push_back(n);
    if (!TakesValue(*o)) continue;
    for (const std::string& n : names) {
      if (std::find(m.valued.begin(), m.valued.end(), n) == m.valued.end()) m.valued.push_back(n);
    }
    m.values.emplace(Join(names, "|"), Choices(o));
  }
  if (app->get_parent() != nullptr) {
    for (const std::string& g : globals) {
      if (std::find(flags.begin(), flags.end(), g) == flags.end()) flags.push_back(g);
    }
  }
  m.commands.push_back(std::move(c));
  for (const CLI::App* sub : subs) Walk(sub, path + "/" + sub->get_name(), globals, m);
}

Model Build(const CLI::App& app) {
  std::vector<std::string> globals;
  for (const CLI::Option* o : app.get_options()) {
    if (o->nonpositional() && o != app.get_version_ptr()) {
      for (const std::string& n : Spellings(o)) globals.push_back(n);
    }
  }
  Model m;
  Walk(&app, "", globals, m);
  return m;
}

std::vector<std::string> Paths(const Model& m) {
  std::vector<std::string> out;
  for (const Model::Command& c : m.commands)
    if (!c.path.empty()) out.push_back(c.path);
  return out;
}

std::vector<std::string> FileFlags(const Model& m) {
  std::vector<std::string> out;
  for (const auto& [names, choices] : m.values)
    if (choices.empty()) out.push_back(names);
  return out;
}

// The scripts, with @NAME@ where Fill puts the parts made from the tree:
// @VALUED@ the flags that take a value, @PATHS@ the command paths (both
// '|'-joined case patterns), @VALUES@ a case arm per flag with choices and
// one for the flags taking files, @COMMANDS@ a case arm per command path
// setting `commands` and `flags`.
constexpr const char* kBashScript =
    R"sh(# bash completion for tinykv (`tinykv completion bash`): source <(tinykv completion bash)
_tinykv() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" commands="" flags="" words w i
  ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD-1]}"
  # --flag=value: bash splits the word at the '='.
  if [[ $prev == = ]] && ((COMP_CWORD > 1)); then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi
  # The command so far: its words, past flags and their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    case "$w" in
      @VALUED@) ((i++)) ;;
      -*) ;;
      *) case "$cmd/$w" in
           @PATHS@) cmd="$cmd/$w" ;;
         esac ;;
    esac
  done
  case "$prev" in
@VALUES@  esac
  case "$cmd" in
@COMMANDS@  esac
  # Flags once a '-' is typed, else the subcommands (none: bash's default, files).
  if [[ $cur == -* ]]; then words="$flags"; else words="$commands"; fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _tinykv tinykv
)sh";

constexpr const char* kZshScript = R"sh(#compdef tinykv
# zsh completion for tinykv (`tinykv completion zsh`): save it as _tinykv in a
# directory of $fpath, or source <(tinykv completion zsh) after compinit.
_tinykv() {
  local cmd="" w prev i
  local -a choices commands flags
  # The command so far: its words, past flags and their values.
  for ((i = 2; i < CURRENT; i++)); do
    w="${words[i]}"
    case "$w" in
      (@VALUED@) ((i++)) ;;
      (-*) ;;
      (*) case "$cmd/$w" in
            (@PATHS@) cmd="$cmd/$w" ;;
          esac ;;
    esac
  done
  prev="${words[CURRENT-1]}"
  case "$prev" in
@VALUES@    (*)
      case "$cmd" in
@COMMANDS@      esac
      # Flags once a '-' is typed, else the subcommands.
      if [[ $PREFIX == -* ]]; then choices=("${flags[@]}"); else choices=("${commands[@]}"); fi ;;
  esac
  # No match (a command's own argument): file names, as bash's -o default.
  compadd -- "${choices[@]}" || _files
}
if [[ "${funcstack[1]}" == _tinykv ]]; then
  _tinykv "$@"
else
  compdef _tinykv tinykv
fi
)sh";

std::string Fill(std::string script, const std::map<std::string, std::string>& parts) {
  for (const auto& [name, text] : parts) {
    const std::string mark = "@" + name + "@";
    for (size_t at; (at = script.find(mark)) != std::string::npos;)
      script.replace(at, mark.size(), text);
  }
  return script;
}

}  // namespace

std::string BashCompletion(const CLI::App& app) {
  const Model m = Build(app);
  std::string values, commands;
  for (const auto& [names, choices] : m.values) {
    if (choices.empty()) continue;
    values += "    " + names + ") COMPREPLY=($(compgen -W \"" + Join(choices, " ") +
              "\" -- \"$cur\")); return ;;\n";
  }
  if (!FileFlags(m).empty()) {
    values +=
        "    " + Join(FileFlags(m), "|") + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
  }
  for (const Model::Command& c : m.commands) {
    commands += "    " + (c.path.empty() ? std::string("\"\"") : c.path) + ") commands=\"" +
                Join(c.subcommands, " ") + "\" flags=\"" + Join(c.flags, " ") + "\" ;;\n";
  }
  return Fill(kBashScript, {{"VALUED", Join(m.valued, "|")},
                            {"PATHS", Join(Paths(m), "|")},
                            {"VALUES", values},
                            {"COMMANDS", commands}});
}

std::string ZshCompletion(const CLI::App& app) {
  const Model m = Build(app);
  std::string values, commands;
  for (const auto& [names, choices] : m.values) {
    if (choices.empty()) continue;
    values += "    (" + names + ") choices=(" + Join(choices, " ") + ") ;;\n";
  }
  if (!FileFlags(m).empty()) values += "    (" + Join(FileFlags(m), "|") + ") _files; return ;;\n";
  for (const Model::Command& c : m.commands) {
    commands += "        (" + (c.path.empty() ? std::string("\"\"") : c.path) + ") commands=(" +
                Join(c.subcommands, " ") + ") flags=(" + Join(c.flags, " ") + ") ;;\n";
  }
  return Fill(kZshScript, {{"VALUED", Join(m.valued, "|")},
                           {"PATHS", Join(Paths(m), "|")},
                           {"VALUES", values},
                           {"COMMANDS", commands}});
}

}  // namespace tinykv::cli
