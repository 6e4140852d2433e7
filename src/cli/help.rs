//! The examples and key summary at the end of `cotty --help`.

/// What `cotty --help` ends with: examples, the dashboard's keys and the files.
pub const EXAMPLES: &str = "\
Examples:
  cotty                                     share your shell; links in the sidebar
  cotty -S /tmp/pair display -p '#{ssh}'    print the link of the cotty on /tmp/pair
  cotty -S /tmp/pair new-link --once --ttl 1h   a link for one guest, for an hour
  cotty -F new-session htop                 headless: share htop, print the links
  cotty --relay relay.example.org:2222      use a shared relay instead of the built-in one
  cotty relay --public-host relay.example.org
  ssh -p 2222 TOKEN@relay.example.org       a guest; any OpenSSH client
  http://relay.example.org:2222/#TOKEN      a guest in a browser (relays with the web view)

Dashboard keys (prefix C-b): C-b s sidebar, C-b S show/hide it, C-b L lock guests,
C-b ? help, C-b q quit, C-b C-b a literal C-b. In the sidebar: Enter/y copy a link
(ssh or web), d switch it off, Q QR code (a web link's opens on a phone), m read-only/
read-write, k kick, Tab next section, Esc back.

Files:
  config          $XDG_CONFIG_HOME/cotty/cotty.toml  (~/.config/cotty/cotty.toml)
  user themes     $XDG_CONFIG_HOME/cotty/themes/NAME.toml
  known relays    $XDG_CONFIG_HOME/cotty/known_relays
  relay host key  $XDG_DATA_HOME/cotty/relay_host_key  (~/.local/share/cotty/relay_host_key)
  host identity   $XDG_DATA_HOME/cotty/host_key
  control socket  $XDG_RUNTIME_DIR/cotty/default, or /tmp/cotty-UID/default";
