// Help and usage errors of the tinykv CLI (usage.h).
#include "cli/usage.h"

namespace tinykv::cli {
namespace {

const CLI::App* Root(const CLI::App* app) {
  while (app->get_parent() != nullptr) app = app->get_parent();
  return app;
}

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    std::string out = CLI::Formatter::make_help(app, name, mode);
    if (app->get_parent() == nullptr || mode == CLI::AppFormatMode::Sub) return out;
    while (out.ends_with("\n\n")) out.pop_back();
    const CLI::App* root = Root(app);
    std::vector<const CLI::Option*> globals = root->get_options([root](const CLI::Option* o) {
      return o != root->get_help_ptr() && o != root->get_help_all_ptr();
    });
    return out + make_group("Global options", false, globals);
  }
};

// The option `arg` (a flag word: --name, --name=value, -w, -wjson) spells
// at `app` or above it (global options apply below the root: fallthrough).
const CLI::Option* FindOption(const CLI::App* app, const std::string& arg) {
  std::string name = arg.substr(0, arg.find('='));
  if (name.size() > 2 && name[1] != '-') name = name.substr(0, 2);  // -wjson
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

bool TakesValueImpl(const CLI::Option& o) { return o.get_items_expected_min() > 0; }

// Walks `args` down the command tree: the command words go to *words; the
// first word that names no command where one is expected gives the error.
std::optional<std::string> WalkCommands(const CLI::App& app, const std::vector<std::string>& args,
                                        std::vector<std::string>* words) {
  const CLI::App* at = &app;
  std::string path = app.get_name();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return std::nullopt;
    if (arg.size() > 1 && arg[0] == '-') {
      const CLI::Option* o = FindOption(at, arg);
      // Its value is the next word unless attached (--name=v, -wv).
      const bool attached = arg.find('=') != std::string::npos || (arg[1] != '-' && arg.size() > 2);
      if (o != nullptr && TakesValueImpl(*o) && !attached) ++i;
      continue;
    }
    if (at->get_subcommands({}).empty()) return std::nullopt;  // a command's own argument
    std::vector<const CLI::App*> sub =
        at->get_subcommands([&arg](const CLI::App* s) { return s->check_name(arg); });
    if (sub.empty()) return "unknown command \"" + arg + "\" for \"" + path + "\"";
    at = sub.front();
    path += " " + arg;
    words->push_back(at->get_name());
  }
  return std::nullopt;
}

}  // namespace

bool TakesValue(const CLI::Option& o) { return TakesValueImpl(o); }

std::shared_ptr<CLI::Formatter> MakeHelpFormatter() { return std::make_shared<HelpFormatter>(); }

std::optional<std::string> UnknownCommand(const CLI::App& app,
                                          const std::vector<std::string>& args) {
  std::vector<std::string> words;
  return WalkCommands(app, args, &words);
}

std::vector<std::string> CommandWords(const CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> words;
  WalkCommands(app, args, &words);  // an unknown word ends the walk; the parse reports it
  return words;
}

std::string CommandPath(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands().front();
    path += " " + at->get_name();
  }
  return path;
}

}  // namespace tinykv::cli
