# RFC 7616 / RFC 2617 digest client (core/sip/digest.*); included by this folder's CMakeLists.
sb_add_test(NAME tst_digest SOURCES tst_digest.cpp LIBS sb_sip LABEL unit)
