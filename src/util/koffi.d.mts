import koffi from 'koffi';
export default koffi;
