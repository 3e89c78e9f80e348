# What `cmake --install` (and the .deb built by CPack) puts on a system. Included from
# app/CMakeLists.txt, where the `switchboard` target is defined.
include(GNUInstallDirs)

install(TARGETS switchboard RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/switchboard.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/switchboard.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
install(FILES ${PROJECT_SOURCE_DIR}/resources/switchboard.sample.ini
              ${PROJECT_SOURCE_DIR}/resources/switchboard-client.sample.ini
              ${PROJECT_SOURCE_DIR}/docs/headless.md
              ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/switchboard)

# `cpack -G DEB` in a build directory makes a Debian package of the above.
set(CPACK_PACKAGE_NAME switchboard)
set(CPACK_PACKAGE_VENDOR "Switchboard")
set(CPACK_PACKAGE_CONTACT "Switchboard maintainers <switchboard@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SECTION comm)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_GENERATOR DEB)
include(CPack)
