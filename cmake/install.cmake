# SPDX-License-Identifier: MIT
# What `cmake --install` puts where, besides imapwatchd itself: the CLI, the
# systemd user unit, the D-Bus activation file, the XDG autostart file, the
# desktop entry that notifications name, the introspection XML, the icon,
# the man pages, the example config and the README. Included at the end of
# the top-level CMakeLists.txt, once every target exists. DESTDIR and
# CMAKE_INSTALL_PREFIX are honoured; paths below the prefix are relative so
# `cmake --install --prefix` moves them along.

# The command-line tool, when this tree builds it.
if(TARGET imapwatch)
  install(TARGETS imapwatch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# Where the programs end up, for the unit's ExecStart= and the activation
# file's Exec= (both need absolute paths, fixed at configure time).
set(IMAPWATCH_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})

# Makes an absolute path below the prefix relative to it, so that
# `cmake --install --prefix` moves it along; other paths stay as they are.
function(imapwatch_below_prefix out path)
  string(LENGTH "${CMAKE_INSTALL_PREFIX}/" prefix_length)
  string(SUBSTRING "${path}/" 0 ${prefix_length} head)
  if(head STREQUAL "${CMAKE_INSTALL_PREFIX}/")
    string(SUBSTRING "${path}" ${prefix_length} -1 path)
  endif()
  set(${out} "${path}" PARENT_SCOPE)
endfunction()

# The systemd user unit directory: systemd's own answer when the prefix is
# the one systemd was built for (/usr); else below the prefix, where the
# user manager also looks (/usr/local/lib/systemd/user) and where a packager
# collects files (a staging prefix).
set(IMAPWATCH_SYSTEMD_USER_UNIT_DIR "" CACHE STRING
    "systemd user unit directory (empty: from pkg-config systemd for its own prefix, else lib/systemd/user)")
if(IMAPWATCH_SYSTEMD_USER_UNIT_DIR)
  set(unit_dir ${IMAPWATCH_SYSTEMD_USER_UNIT_DIR})
else()
  set(unit_dir lib/systemd/user)
  pkg_get_variable(systemd_prefix systemd prefix)
  pkg_get_variable(systemd_unit_dir systemd systemduserunitdir)
  if(systemd_unit_dir AND systemd_prefix STREQUAL CMAKE_INSTALL_PREFIX)
    set(unit_dir ${systemd_unit_dir})
  endif()
endif()
imapwatch_below_prefix(IMAPWATCH_UNIT_DESTINATION "${unit_dir}")

# XDG autostart lives below the system configuration directory: /etc for
# the /usr prefix (GNUInstallDirs), <prefix>/etc otherwise.
imapwatch_below_prefix(IMAPWATCH_SYSCONF_DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}")

configure_file(${PROJECT_SOURCE_DIR}/systemd/imapwatchd.service.in
               ${PROJECT_BINARY_DIR}/data/imapwatchd.service @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/data/org.imapwatch.Daemon1.service.in
               ${PROJECT_BINARY_DIR}/data/org.imapwatch.Daemon1.service @ONLY)

install(FILES ${PROJECT_BINARY_DIR}/data/imapwatchd.service
        DESTINATION ${IMAPWATCH_UNIT_DESTINATION})
install(FILES ${PROJECT_BINARY_DIR}/data/org.imapwatch.Daemon1.service
        DESTINATION ${CMAKE_INSTALL_DATADIR}/dbus-1/services)
install(FILES ${PROJECT_SOURCE_DIR}/data/org.imapwatch.Daemon1.xml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/dbus-1/interfaces)
install(FILES ${PROJECT_SOURCE_DIR}/data/imapwatchd.desktop
        DESTINATION ${IMAPWATCH_SYSCONF_DESTINATION}/xdg/autostart)
# The application's desktop entry: its name is the notifications'
# desktop-entry hint, so desktops find imapwatch in their notification settings.
install(FILES ${PROJECT_SOURCE_DIR}/data/imapwatchd-application.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications RENAME imapwatchd.desktop)
install(FILES ${PROJECT_SOURCE_DIR}/data/icons/hicolor/scalable/apps/imapwatch.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/imapwatchd.1 ${PROJECT_SOURCE_DIR}/docs/man/imapwatch.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/imapwatch.conf.5
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_SOURCE_DIR}/data/config.example ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Shell completions, where bash-completion, zsh and fish look for them.
install(FILES ${PROJECT_SOURCE_DIR}/data/completions/imapwatch.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME imapwatch)
install(FILES ${PROJECT_SOURCE_DIR}/data/completions/imapwatch.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME imapwatchd)
install(FILES ${PROJECT_SOURCE_DIR}/data/completions/_imapwatch
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
install(FILES ${PROJECT_SOURCE_DIR}/data/completions/imapwatch.fish
              ${PROJECT_SOURCE_DIR}/data/completions/imapwatchd.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
