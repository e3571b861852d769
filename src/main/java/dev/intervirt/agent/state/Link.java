package dev.intervirt.agent.state;

/** An undirected cable between two containers; {@code a} sorts before {@code b}. */
public record Link(String a, String b) {

    public Link {
        if (a.compareTo(b) > 0) {
            String t = a;
            a = b;
            b = t;
        }
    }

    public boolean touches(String id) {
        return a.equals(id) || b.equals(id);
    }

    public String other(String id) {
        return a.equals(id) ? b : a;
    }
}
