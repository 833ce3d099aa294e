# SPDX-License-Identifier: MIT
# bash completion for imapwatch and imapwatchd. Account names come from the
# configuration file ([account NAME] groups), so nothing here needs the
# daemon running.

_imapwatch_config_path()
{
    local i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case ${COMP_WORDS[i]} in
        --config | -c)
            printf '%s\n' "${COMP_WORDS[i + 1]/#\~/$HOME}"
            return
            ;;
        --config=*)
            printf '%s\n' "${COMP_WORDS[i]#--config=}"
            return
            ;;
        esac
    done
    printf '%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/imapwatch/config"
}

_imapwatch_accounts()
{
    local config
    config=$(_imapwatch_config_path)
    [[ -r $config ]] || return
    sed -n 's/^[[:space:]]*\[account[[:space:]]\{1,\}\([^]]*[^][:space:]]\)[[:space:]]*\][[:space:]]*\(#.*\)\{0,1\}$/\1/p' \
        "$config"
}

_imapwatch()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="status list check mark-read reload monitor pause resume doctor"
    local command="" i

    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *)
            if [[ ${COMP_WORDS[i - 1]} != --config ]]; then
                command=${COMP_WORDS[i]}
                break
            fi
            ;;
        esac
    done
    case $prev in
    --config)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --format | --offline)
        # Free text (a template): nothing to offer.
        COMPREPLY=()
        return
        ;;
    esac
    local options accounts=1
    case $command in
    "")
        mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
        return
        ;;
    status) options="--json --format --offline --help" accounts=0 ;;
    list) options="--all --json --help" ;;
    check) options="--help" ;;
    mark-read) options="--all --help" ;;
    reload) options="--help" accounts=0 ;;
    pause | resume) options="--help" accounts=0 ;;
    monitor) options="--json --waybar --i3blocks --format --offline --help" accounts=0 ;;
    doctor) options="--config --help" ;;
    *) return ;;
    esac
    if [[ $cur == -* || $accounts == 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
        return
    fi
    # One name per line: a name with spaces is one word, quoted.
    local account
    COMPREPLY=()
    while IFS= read -r account; do
        if [[ $account == "$cur"* ]]; then
            COMPREPLY+=("$(printf '%q' "$account")")
        fi
    done < <(_imapwatch_accounts)
}

_imapwatchd()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}

    case $prev in
    --config | -c)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "--config --check-config --print-events --verbose
        --trace-imap --version --help" -- "$cur")
}

complete -F _imapwatch imapwatch
complete -F _imapwatchd imapwatchd
