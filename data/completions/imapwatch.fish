# SPDX-License-Identifier: MIT
# fish completion for imapwatch. Account names come from the configuration
# file ([account NAME] groups).

function __imapwatch_accounts
    set -l config (set -q XDG_CONFIG_HOME; and echo $XDG_CONFIG_HOME; or echo $HOME/.config)/imapwatch/config
    test -r $config; or return
    sed -n 's/^[[:space:]]*\[account[[:space:]]\{1,\}\([^]]*[^][:space:]]\)[[:space:]]*\][[:space:]]*\(#.*\)\{0,1\}$/\1/p' $config
end

set -l commands status list check mark-read reload monitor pause resume doctor
complete -c imapwatch -f
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a status -d 'accounts, their state and unseen mail'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a list -d 'unseen (or all known) messages'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a check -d 'look for new mail now'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a mark-read -d 'mark messages as read on the server'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a reload -d 'read the configuration again'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a monitor -d 'print events as they happen'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a pause -d 'no popups or sounds for a while, or until resume'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a resume -d 'popups and sounds again'
complete -c imapwatch -n "not __fish_seen_subcommand_from $commands" -a doctor -d 'check accounts, no daemon needed'
complete -c imapwatch -n "__fish_seen_subcommand_from status list monitor" -l json -d 'JSON output'
complete -c imapwatch -n "__fish_seen_subcommand_from status monitor" -l format -x -d 'template: {unseen} {state} {accounts} {unseen:ACCOUNT} …'
complete -c imapwatch -n "__fish_seen_subcommand_from status monitor" -l offline -x -d 'text while imapwatchd is not running'
complete -c imapwatch -n "__fish_seen_subcommand_from monitor" -l waybar -d 'a JSON object per change for waybar'
complete -c imapwatch -n "__fish_seen_subcommand_from monitor" -l i3blocks -d 'a line per change for i3blocks, polybar'
complete -c imapwatch -n "__fish_seen_subcommand_from list mark-read" -l all -d 'every message'
complete -c imapwatch -n "__fish_seen_subcommand_from doctor" -l config -r -F -d 'configuration file'
complete -c imapwatch -n "__fish_seen_subcommand_from list check mark-read doctor" -a '(__imapwatch_accounts)' -d account
complete -c imapwatch -s V -l version -d 'print the version'
