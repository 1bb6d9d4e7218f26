"""The GstPushSource interface from Python, through its introspection data.

Run by `meson test python-interface` with the system python3 (python3-gi, python3-gst-1.0), the
plugin of the meson build (GST_PLUGIN_PATH) and the typelib next to libgstpushsource-1.0
(GI_TYPELIB_PATH). The README's Python example is the first test: it runs as written there.
"""

import os
import unittest

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstPushSource", "1.0")
from gi.repository import Gst, GstPushSource  # noqa: E402

Gst.init(None)

MS = Gst.MSECOND
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")


def readme_python_example():
    """The python block of the README's section on the interface."""
    text = open(README, encoding="utf-8").read()
    section = text[text.index("## The push-source interface") :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("```", start)]


class PushSourceFromPython(unittest.TestCase):
    def test_the_readme_example(self):
        exec(compile(readme_python_example(), "README.md", "exec"), {})

    def test_the_source_comes_from_the_plugin_of_this_build(self):
        src = Gst.ElementFactory.make("pushaudiotestsrc", None)
        self.assertIsNotNone(src, "pushaudiotestsrc from GST_PLUGIN_PATH")
        plugin = src.get_factory().get_plugin()
        self.assertEqual(
            os.path.dirname(plugin.get_filename()),
            os.path.realpath(os.environ["PUSHSOURCE_PLUGIN_DIR"]),
        )
        self.assertIsInstance(src, GstPushSource.PushSource)
        self.assertEqual(GstPushSource.PushSource.__gtype__.name, "GstPushSource")

    def test_set_stream_offset_answers_exceeds_maximum_above_max_offset(self):
        src = Gst.ElementFactory.make("pushaudiotestsrc", None)
        src.set_property("max-offset", 200 * MS)
        self.assertEqual(GstPushSource.PushSource.get_max_stream_offset(src), 200 * MS)

        result = GstPushSource.PushSource.set_stream_offset(src, 300 * MS)
        self.assertEqual(result, GstPushSource.PushSourceOffsetResult.EXCEEDS_MAXIMUM)
        self.assertIsInstance(result, GstPushSource.PushSourceOffsetResult)
        self.assertEqual(GstPushSource.PushSource.get_stream_offset(src), 300 * MS)
        self.assertEqual(src.get_property("ts-offset"), 300 * MS, "applied anyway")

        result = GstPushSource.PushSource.set_stream_offset(src, 100 * MS)
        self.assertEqual(result, GstPushSource.PushSourceOffsetResult.APPLIED)
        self.assertEqual(src.get_property("ts-offset"), 100 * MS)

        GstPushSource.PushSource.set_max_stream_offset(src, 500 * MS)
        self.assertEqual(src.get_property("max-offset"), 500 * MS)
        self.assertEqual(
            GstPushSource.PushSource.set_stream_offset(src, 300 * MS),
            GstPushSource.PushSourceOffsetResult.APPLIED,
        )

    def test_get_latency(self):
        src = Gst.ElementFactory.make("pushaudiotestsrc", None)
        src.set_property("latency", 100 * MS)
        ok, latency = GstPushSource.PushSource.get_latency(src)
        self.assertTrue(ok)
        self.assertEqual(latency, 100 * MS)

    def test_flags_are_push_source_flags(self):
        src = Gst.ElementFactory.make("pushaudiotestsrc", None)
        flags = GstPushSource.PushSource.get_push_source_flags(src)
        self.assertIsInstance(flags, GstPushSource.PushSourceFlags)
        self.assertEqual(flags, 0)

        GstPushSource.PushSource.set_push_source_flags(
            src,
            GstPushSource.PushSourceFlags.NOT_LIVE | GstPushSource.PushSourceFlags.INTERNAL_RM,
        )
        flags = GstPushSource.PushSource.get_push_source_flags(src)
        self.assertEqual(
            flags,
            GstPushSource.PushSourceFlags.NOT_LIVE | GstPushSource.PushSourceFlags.INTERNAL_RM,
        )
        self.assertFalse(src.get_property("is-live"))
        self.assertEqual(src.get_property("push-source-flags"), flags)
        self.assertEqual(int(GstPushSource.PushSourceFlags.USE_CLOCK_CHAIN), 0x20000)

    def test_the_interface_types_keep_their_names_and_nicks(self):
        self.assertEqual(GstPushSource.PushSourceFlags.__gtype__.name, "GstPushSourceFlags")
        self.assertEqual(
            GstPushSource.PushSourceOffsetResult.__gtype__.name, "GstPushSourceOffsetResult"
        )
        exceeds = GstPushSource.PushSourceOffsetResult.EXCEEDS_MAXIMUM
        self.assertEqual(exceeds.value_nick, "exceeds-maximum")
        self.assertEqual(int(exceeds), 1)
        self.assertEqual(GstPushSource.PushSourceFlags.NOT_LIVE.first_value_nick, "not-live")

    def test_a_bin_finds_its_push_sources_by_the_interface_type(self):
        bin = Gst.Bin.new("graph")
        nested = Gst.Bin.new("nested")
        bin.add(Gst.ElementFactory.make("pushaudiotestsrc", "audio"))
        nested.add(Gst.ElementFactory.make("pushvideotestsrc", "video"))
        bin.add(nested)
        bin.add(Gst.ElementFactory.make("fakesrc", "plain"))

        names = []
        iterator = bin.iterate_all_by_interface(GstPushSource.PushSource)
        while True:
            result, element = iterator.next()
            if result != Gst.IteratorResult.OK:
                self.assertEqual(result, Gst.IteratorResult.DONE)
                break
            names.append(element.get_name())
        self.assertEqual(sorted(names), ["audio", "video"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
